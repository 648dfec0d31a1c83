"""sentiment-agent: a keyword sentiment skill (no LLM key needed)."""

import os

from agent_sdk import Agent

app = Agent("sentiment-agent", agentfield_server=os.getenv("AGENTFIELD_SERVER", "http://localhost:8080"))
# Also runnable as a plain Celery worker: celery -A <module>:celery worker
celery = app.celery

NEGATIVE = {"angry", "broken", "refund", "terrible", "worst", "hate", "crash", "down", "late"}
POSITIVE = {"thanks", "great", "love", "awesome", "happy", "works", "perfect"}


@app.skill(tags=["nlp"])
def analyze(text: str) -> dict:
    """Label a text positive, negative or neutral from its words."""
    words = {w.strip(".,!?").lower() for w in text.split()}
    score = len(words & POSITIVE) - len(words & NEGATIVE)
    label = "negative" if score < 0 else "positive" if score > 0 else "neutral"
    return {"label": label, "score": score}


if __name__ == "__main__":
    app.run()
