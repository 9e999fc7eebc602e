-- bench/status.lua - wrk script of bench/run.py: counts the responses by
-- status class (and 502/503/504 one by one) and prints, from done(), one
-- machine-readable line that bench/run.py parses:
--
--   BENCH requests=... rps=... p50_ms=... ... s2xx=... s503gw=... timeout=...
--
-- A 503 carrying "Retry-After" is nginx's own answer (deploy/nginx.conf.in
-- maps 502 and 503 to /_problem/503, which adds that header): no API
-- process answered.  A 503 without it comes from the API (database down).
--
-- Counters live in each wrk thread's own Lua state; setup() keeps the
-- thread objects so that done() can add them up with thread:get().

-- The API wants an access token; bench/run.py signs in and exports it.
local token = os.getenv("VETRED_BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local threads = {}
local names = { "s2xx", "s3xx", "s4xx", "s5xx", "s502", "s503gw", "s503api",
                "s504", "sother" }

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   for _, n in ipairs(names) do _G[n] = 0 end
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      s2xx = s2xx + 1
   elseif status >= 300 and status < 400 then
      s3xx = s3xx + 1
   elseif status >= 400 and status < 500 then
      s4xx = s4xx + 1
   elseif status >= 500 and status < 600 then
      s5xx = s5xx + 1
      if status == 502 then
         s502 = s502 + 1
      elseif status == 503 then
         if headers["Retry-After"] or headers["retry-after"] then
            s503gw = s503gw + 1
         else
            s503api = s503api + 1
         end
      elseif status == 504 then
         s504 = s504 + 1
      end
   else
      sother = sother + 1
   end
end

function done(summary, latency, requests)
   local t = {}
   for _, n in ipairs(names) do t[n] = 0 end
   for _, th in ipairs(threads) do
      for _, n in ipairs(names) do t[n] = t[n] + (th:get(n) or 0) end
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   local function ms(p) return latency:percentile(p) / 1000 end
   io.write(string.format(
      "BENCH requests=%d secs=%.2f rps=%.0f mean_ms=%.2f p50_ms=%.2f " ..
      "p90_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f connect=%d read=%d " ..
      "write=%d timeout=%d non2xx=%d",
      summary.requests, secs, summary.requests / secs, latency.mean / 1000,
      ms(50), ms(90), ms(95), ms(99), latency.max / 1000, e.connect, e.read, e.write,
      e.timeout, summary.requests - t.s2xx))
   for _, n in ipairs(names) do io.write(string.format(" %s=%d", n, t[n])) end
   io.write("\n")
end
