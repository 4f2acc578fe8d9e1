"""Custom actions for the rasa_sdk action server (`python -m rasa_sdk --actions bot.actions`).

rasa_sdk imports every module of this package and registers the Action subclasses it finds, so
nothing is listed here; importing one module (e.g. rendering, from the gateway) loads only it."""
