-- bench/read_cita.lua - wrk script of bench/run.py: GET /api/v1/citas/{id}
-- cycling over the ids of appointments booked earlier in the run; and of
-- bench/busqueda.py: GET /api/v1/propietarios?<query> over its searches.
--
--   wrk -t2 -c64 -d20s --latency -s bench/read_cita.lua URL -- IDS_FILE [PREFIX]
--
-- IDS_FILE holds one id (or query string) per line, sent after PREFIX
-- (default /api/v1/citas/).  Thread t starts at its own offset in the
-- list and walks it in order, wrapping around.  Every response must be
-- 200: the others are counted and the first few printed; done() prints the
-- machine-readable line bench/run.py reads:
--   BENCH requests=... rps=... p50_ms=... s200=... non2xx=... ...

-- The API wants an access token; the bench signs in and exports it.
local token = os.getenv("VETRED_BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local ids = {}
local prefix = "/api/v1/citas/"
local pos = 0

function init(args)
   local f = args[1] and io.open(args[1], "r")
   if not f then
      error("read_cita.lua: cannot open the ids file '" .. tostring(args[1]) .. "'")
   end
   for line in f:lines() do
      if line ~= "" then ids[#ids + 1] = line end
   end
   if args[2] then prefix = args[2] end
   f:close()
   if #ids == 0 then
      error("read_cita.lua: no id in " .. args[1])
   end
   -- Threads start far apart in the list (id is set by setup()).
   pos = ((id - 1) * math.floor(#ids / 2 + 0.5)) % #ids
   s200, bad = 0, 0
   samples = ""
end

function request()
   pos = pos % #ids + 1
   return wrk.format("GET", prefix .. ids[pos])
end

function response(status, headers, body)
   if status == 200 then
      s200 = s200 + 1
   else
      bad = bad + 1
      if bad <= 5 then
         samples = samples .. string.format("NON200 status=%d body=%s\n",
            status, (body or ""):sub(1, 300):gsub("\n", " "))
      end
   end
end

function done(summary, latency, requests)
   local t = { s200 = 0, bad = 0 }
   for _, th in ipairs(threads) do
      t.s200 = t.s200 + (th:get("s200") or 0)
      t.bad = t.bad + (th:get("bad") or 0)
      io.write(th:get("samples") or "")
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   local function ms(p) return latency:percentile(p) / 1000 end
   io.write(string.format(
      "BENCH requests=%d secs=%.2f rps=%.0f mean_ms=%.2f p50_ms=%.2f " ..
      "p90_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f connect=%d read=%d " ..
      "write=%d timeout=%d non2xx=%d s200=%d bad=%d\n",
      summary.requests, secs, summary.requests / secs, latency.mean / 1000,
      ms(50), ms(90), ms(95), ms(99), latency.max / 1000, e.connect, e.read,
      e.write, e.timeout, summary.requests - t.s200, t.s200, t.bad))
end
