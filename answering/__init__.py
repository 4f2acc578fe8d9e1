"""The answering core: one turn of a resident's (or a caller's) words → what to answer.

Both the Rasa actions (bot/actions) and the hotline console (channels/assist) call
``decide`` and render its ``Decision`` with ``answering.render``, so residents and operators
get the same answer with the same evidence. It knows no Rasa and no HTTP: it reads the
index through ``indexer.api`` and is testable on its own."""
