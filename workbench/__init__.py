"""The service centre's workbench: turning Rasa's events into analytics, grouping unanswered
questions, forecasting demand, and the knowledge and holiday edits staff make. Sits beside the
answering core: it uses indexer/ and services/, and channels/ serves it over HTTP."""
