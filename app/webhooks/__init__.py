"""Signed completion webhooks for executions: validation, storage, delivery, retries."""
