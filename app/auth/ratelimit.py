"""A token bucket per key in Redis: ``rate_limit`` requests a second, bursts of
``rate_burst``. One script call per request of a limited key; unlimited keys cost nothing.
"""

import math

from flask import current_app

from app.auth.errors import RateLimited
from app.auth.principal import Principal
from app.extensions import get_keys, get_redis

# Refill from the time elapsed (Redis's clock, the same for every web process), take one
# token if there is one, else say how many milliseconds until there is.
_TAKE = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""


def take_token(principal: Principal) -> None:
    """Spend one request of the key's bucket.

    Raises:
        RateLimited: the bucket is empty; ``Retry-After`` says when it is not.
    """
    rate = principal.rate_limit
    if not rate or principal.key_id is None:
        return
    burst = principal.rate_burst or max(1, math.ceil(rate))
    script = current_app.extensions.get("rate_bucket_script")
    if script is None:
        script = current_app.extensions["rate_bucket_script"] = (
            get_redis().register_script(_TAKE))
    wait_ms = int(script(keys=[get_keys().rate_bucket(principal.key_id)], args=[rate, burst]))
    if wait_ms > 0:
        retry_after = max(1, math.ceil(wait_ms / 1000))
        raise RateLimited(f"this key may make {rate:g} requests a second "
                          f"(bursts of {burst}); retry in {retry_after} s",
                          {"rate_limit": rate, "rate_burst": burst}, retry_after)
