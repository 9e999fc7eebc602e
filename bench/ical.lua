-- bench/ical.lua - wrk script of bench/ical.py: polls calendar feeds as
-- subscribed clients do.  Its argument is a file of lines "PATH ETAG"
-- (one per subscription); each request takes the next line, and with
-- the second argument "cond" sends If-None-Match with the feed's ETag
-- (a client that has it: 304), otherwise a plain GET (200).  done()
-- prints one BENCH line (bench/status.lua's format): non2xx counts the
-- answers other than 200 and 304.

local lines, n, i = {}, 0, 0
local cond = false
local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   for l in io.lines(args[1]) do
      local p, e = l:match("^(%S+)%s+(%S+)$")
      if p then
         n = n + 1
         lines[n] = { p, e }
      end
   end
   cond = args[2] == "cond"
   i = (id or 1) * 7919 % math.max(n, 1)
   ok, other = 0, 0
end

function request()
   i = i % n + 1
   local h = {}
   if cond then h["If-None-Match"] = lines[i][2] end
   return wrk.format("GET", lines[i][1], h)
end

function response(status, headers, body)
   if status == 200 or status == 304 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
   local good, bad = 0, 0
   for _, th in ipairs(threads) do
      good = good + (th:get("ok") or 0)
      bad = bad + (th:get("other") or 0)
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   local function ms(p) return latency:percentile(p) / 1000 end
   io.write(string.format(
      "BENCH requests=%d secs=%.2f rps=%.0f mean_ms=%.2f p50_ms=%.2f " ..
      "p90_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f connect=%d read=%d " ..
      "write=%d timeout=%d non2xx=%d ok=%d\n",
      summary.requests, secs, summary.requests / secs, latency.mean / 1000,
      ms(50), ms(90), ms(95), ms(99), latency.max / 1000, e.connect, e.read, e.write,
      e.timeout, summary.requests - good, good))
end
