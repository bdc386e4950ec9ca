-- common.lua: what every bench script shares, loaded by each with dofile:
-- thread numbering, the count of answers with an unexpected status, and
-- done(), which writes the summary as JSON to the file named by
-- BENCH_RESULT.

local threads = {}
local counter = 1

-- setup runs in the main Lua state once per thread, before the thread's
-- own state runs init: "id" is the thread's number there, from 1.
function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

unexpected = 0
unexpected_status = 0

-- unexpected_answer counts an answer that is not what the request expects.
function unexpected_answer(status)
   unexpected = unexpected + 1
   unexpected_status = status
end

function done(summary, latency, requests)
   local bad, status = 0, 0
   for _, t in ipairs(threads) do
      bad = bad + (t:get("unexpected") or 0)
      local s = t:get("unexpected_status") or 0
      if s ~= 0 then status = s end
   end
   local e = summary.errors
   local f = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
   f:write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"unexpected":%d,"unexpected_status":%d},' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout, bad, status,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
   f:close()
end
