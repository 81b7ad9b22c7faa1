-- One request against the token bucket at KEYS[1], with the arithmetic of
-- golang.org/x/time/rate as limiter.Local drives it (SetLimitAt, SetBurstAt,
-- AllowN(now, 1), TokensAt(now)), in the float64 numbers Lua shares with Go.
--
-- ARGV: limit, burst, rate (tokens per second, a round-tripping decimal),
-- now_s and now_ns (the instant, Unix seconds and nanoseconds; now_s ""
-- means Redis's own clock, TIME), expiry margin in milliseconds, and
-- "peek" to report the bucket without taking a token or writing anything
-- (Local.PeekAt: the tokens at now, capped at the burst asked for).
--
-- The hash holds t (tokens, %.17g), s and n (the instant of the last
-- update), l, b and r (the limit, burst and rate the bucket has). A
-- missing hash is a full bucket, as a new rate.Limiter is.
--
-- Returns {allowed (1 or 0), tokens after the request (%.17g), now_s, now_ns};
-- a peek returns {1, tokens now (%.17g), now_s, now_ns}.
local limit = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local now_s, now_ns
if ARGV[4] == '' then
	local t = redis.call('TIME')
	now_s = tonumber(t[1])
	now_ns = tonumber(t[2]) * 1000
else
	now_s = tonumber(ARGV[4])
	now_ns = tonumber(ARGV[5])
end
local margin = tonumber(ARGV[6])

local st = redis.call('HMGET', KEYS[1], 't', 's', 'n', 'l', 'b', 'r')
local tokens, last_s, last_ns, b_limit, b_burst, b_rate
if st[1] then
	tokens = tonumber(st[1])
	last_s = tonumber(st[2])
	last_ns = tonumber(st[3])
	b_limit = tonumber(st[4])
	b_burst = tonumber(st[5])
	b_rate = tonumber(st[6])
else
	tokens, b_limit, b_burst, b_rate = burst, limit, burst, rate
end

-- advance: the tokens at now (rate.Limiter.advance). A new bucket's last
-- update is the zero time, so it is full.
local function advance()
	if last_s == nil then
		return b_burst
	end
	local ls, lns = last_s, last_ns
	if now_s < ls or (now_s == ls and now_ns < lns) then
		ls, lns = now_s, now_ns
	end
	-- time.Duration.Seconds: float64(d / Second) + float64(d % Second) / 1e9,
	-- with the saturation of time.Time.Sub at the largest duration.
	local ds, dn = now_s - ls, now_ns - lns
	if dn < 0 then
		ds, dn = ds - 1, dn + 1e9
	end
	if ds > 9223372036 or (ds == 9223372036 and dn > 854775807) then
		ds, dn = 9223372036, 854775807
	end
	local tk = tokens + (ds + dn / 1e9) * b_rate
	if tk > b_burst then
		tk = b_burst
	end
	return tk
end

if ARGV[7] == 'peek' then
	local tk = advance()
	if tk > burst then
		tk = burst
	end
	return {1, string.format('%.17g', tk), now_s, now_ns}
end

local changed = false
if b_limit ~= limit then -- SetLimitAt
	tokens = advance()
	last_s, last_ns = now_s, now_ns
	b_rate, b_limit = rate, limit
	changed = true
end
if b_burst ~= burst then -- SetBurstAt
	tokens = advance()
	last_s, last_ns = now_s, now_ns
	b_burst = burst
	changed = true
end

-- AllowN(now, 1): allowed if the missing fraction of a token refills in
-- under a nanosecond (durationFromTokens truncates).
local tk = advance()
local after = tk - 1
local allowed = 1
if after < 0 and (-after / b_rate) * 1e9 >= 1 then
	allowed = 0
end
if allowed == 1 then
	tokens = after
	last_s, last_ns = now_s, now_ns
	changed = true
else
	after = tk -- TokensAt(now) of the unchanged bucket
end

if changed then
	redis.call('HSET', KEYS[1],
		't', string.format('%.17g', tokens),
		's', string.format('%d', last_s),
		'n', string.format('%d', last_ns),
		'l', string.format('%d', b_limit),
		'b', string.format('%d', b_burst),
		'r', string.format('%.17g', b_rate))
	-- A full bucket is a new one: the key may go once it is full again.
	local ms = math.ceil((b_burst - tokens) / b_rate * 1000)
	if ms > 315360000000 then -- ten years
		ms = 315360000000
	end
	redis.call('PEXPIRE', KEYS[1], ms + margin)
end
return {allowed, string.format('%.17g', after), now_s, now_ns}
