-- wrk script of the Velocix lab: cycles through a pre-generated request pool and writes a JSON
-- summary in done().
--
-- Environment (wrk gives done() no script arguments, so everything comes from the env):
--   BENCH_WRK_POOL    Lua file returning {{method=, path=, headers={...}, body=}, ...}
--   BENCH_WRK_OUT     where done() writes the JSON summary
--   BENCH_WRK_EXPECT  the status every response must have (default 200)
--
-- wrk itself counts responses with status > 399 as errors.status. When the expected status is
-- itself an error (404 scenario) a response() hook counts the responses whose status differs;
-- it is not defined otherwise, because it makes wrk parse every response into Lua.

local pool_path = os.getenv("BENCH_WRK_POOL")
local out_path = os.getenv("BENCH_WRK_OUT")
local expect = tonumber(os.getenv("BENCH_WRK_EXPECT") or "200")
local hooked = expect > 399

local pool_requests = {}
local index = 0
unexpected = 0 -- global: read from the main state with thread:get()
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local pool = dofile(pool_path)
   for i, spec in ipairs(pool) do
      pool_requests[i] = wrk.format(spec.method, spec.path, spec.headers, spec.body)
   end
   if #pool_requests == 0 then
      error("empty request pool " .. tostring(pool_path))
   end
end

function request()
   index = index % #pool_requests + 1
   return pool_requests[index]
end

if hooked then
   function response(status, headers, body)
      if status ~= expect then
         unexpected = unexpected + 1
      end
   end
end

function done(summary, latency, requests)
   local bad = 0
   for _, thread in ipairs(threads) do
      bad = bad + (tonumber(thread:get("unexpected")) or 0)
   end
   local errors = summary.errors
   local file = assert(io.open(out_path, "w"))
   file:write(string.format(
      '{"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"expect":%d,"hooked":%s,"unexpected":%d,' ..
      '"latency_us":{"min":%d,"max":%d,"mean":%.3f,"stdev":%.3f,' ..
      '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
      summary.duration, summary.requests, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      expect, tostring(hooked), bad,
      latency.min, latency.max, latency.mean, latency.stdev,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
   file:close()
end
