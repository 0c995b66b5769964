"""Switchyard's dead-letter processor: store every failure, explain it, redrive it.

The Lambda (``dlq_processor.handler.handler``) turns each dead-letter message
into one failure record per event in the failed-events table. The console
reads those records through ``dlq_processor.store.FailureStore`` and sends
them back to their connector with ``dlq_processor.redrive``.
"""
