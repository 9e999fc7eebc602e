-- bench/book_users.lua - wrk script of bench/run.py: every request books a
-- DISTINCT valid slot with POST /api/v1/citas/reservar.
--
--   wrk -t2 -c1000 -d60s --latency -s bench/book_users.lua URL -- \
--       SEDE VET0 NVETS PAC0 NPAC BASE K0 NTHREADS THINK_MIN_MS THINK_MAX_MS
--
-- Slot k (an integer) is: vet VET0 + k mod NVETS, start BASE (epoch, the
-- next local midnight) + (k div NVETS) x 15 min, 10 minutes long, patient
-- PAC0 + k mod NPAC.  One time step holds NVETS consecutive k, so with
-- NPAC >= NVETS no vet and no patient is booked twice at once, and 10-min
-- bookings on 15-min steps never overlap.  Thread t (1-based) books
-- k = K0 + (t - 1) + NTHREADS x n for n = 0, 1, 2...: the threads' slots
-- are disjoint, and bench/run.py gives each run its own K0 range.
--
-- THINK_MAX_MS > 0: before each request the connection waits a think time
-- drawn uniformly in [THINK_MIN_MS, THINK_MAX_MS] (wrk's delay(); wrk's
-- latency starts when the request is sent, so it excludes the wait).
-- THINK_MAX_MS = 0: no wait (saturation).
--
-- Every response must be 201: the others are counted, the first few
-- printed, and done() prints the machine-readable line bench/run.py reads:
--   BENCH requests=... rps=... p50_ms=... s201=... non2xx=... ...
-- (non2xx here = every response that is not 201).

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local sede, vet0, nvets, pac0, npac, base, k0, nthreads, tmin, tmax
local n = 0
local hdrs = { ["Content-Type"] = "application/json" }
local token = os.getenv("VETRED_BENCH_TOKEN")
if token and token ~= "" then hdrs["Authorization"] = "Bearer " .. token end

function init(args)
   local a = {}
   for i = 1, 10 do
      a[i] = tonumber(args[i])
      if a[i] == nil then
         error("book_users.lua: 10 numeric arguments expected after --")
      end
   end
   sede, vet0, nvets, pac0, npac, base, k0, nthreads, tmin, tmax =
      a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]
   if tmax <= 0 then
      delay = nil            -- wrk then sends without waiting
   end
   math.randomseed(os.time() * 100 + id)
   s201, bad, kmax = 0, 0, 0
   samples = ""
end

function delay()
   return tmin + math.random() * (tmax - tmin)
end

function request()
   local k = k0 + (id - 1) + nthreads * n
   n = n + 1
   kmax = k
   local step = math.floor(k / nvets)
   local body = string.format(
      '{"paciente_id":%d,"veterinario_id":%d,"sede_id":%d,' ..
      '"inicio":"%s","duracion_min":10,"motivo":"bench-http"}',
      pac0 + k % npac, vet0 + k % nvets, sede,
      os.date("!%Y-%m-%dT%H:%M:%SZ", base + step * 900))
   return wrk.format("POST", "/api/v1/citas/reservar", hdrs, body)
end

function response(status, headers, body)
   if status == 201 then
      s201 = s201 + 1
   else
      bad = bad + 1
      if bad <= 5 then
         samples = samples .. string.format("NON201 status=%d body=%s\n",
            status, (body or ""):sub(1, 300):gsub("\n", " "))
      end
   end
end

function done(summary, latency, requests)
   local t = { s201 = 0, bad = 0, kmax = 0 }
   for _, th in ipairs(threads) do
      t.s201 = t.s201 + (th:get("s201") or 0)
      t.bad = t.bad + (th:get("bad") or 0)
      t.kmax = math.max(t.kmax, th:get("kmax") or 0)
      io.write(th:get("samples") or "")
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   local function ms(p) return latency:percentile(p) / 1000 end
   io.write(string.format(
      "BENCH requests=%d secs=%.2f rps=%.0f mean_ms=%.2f p50_ms=%.2f " ..
      "p90_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f connect=%d read=%d " ..
      "write=%d timeout=%d non2xx=%d s201=%d bad=%d kmax=%d\n",
      summary.requests, secs, summary.requests / secs, latency.mean / 1000,
      ms(50), ms(90), ms(95), ms(99), latency.max / 1000, e.connect, e.read,
      e.write, e.timeout, summary.requests - t.s201, t.s201, t.bad, t.kmax))
end
