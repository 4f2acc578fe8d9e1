"""The ingester: Rasa's event broker → analytics turns (``python -m workbench ingest``).

turns.py assembles turn facts from events (pure), places.py finds districts, sql_source.py and
rabbit_source.py read the two brokers, runner.py ties them to services.analytics_store.
"""
