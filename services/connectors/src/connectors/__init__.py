"""Switchyard's connector Lambdas: DynamoDB and HTTP webhooks.

The router invokes a connector asynchronously with one delivery batch (one
target, many events). A connector delivers each event at most once per target,
sends a failure record to the dead-letter queue for each event that fails for
good, and returns normally so Lambda never retries the deliveries that worked.
"""
