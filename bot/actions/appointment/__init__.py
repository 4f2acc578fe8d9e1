"""Hall appointments in the dialogue: book, reschedule and cancel by confirmation code."""
