-- list.lua: each wrk thread (one connection) cycles through its own list of
-- requests, read from the file named by BENCH_REQUESTS. A line is
--   thread <TAB> method <TAB> path <TAB> token <TAB> etag <TAB> expect <TAB> body
-- where thread is the 1-based wrk thread (0: every thread), token a Bearer
-- token or "", etag an If-None-Match value or "", expect the status that
-- counts as success. An answer with any other status is an error, so a 200
-- where a 304 was expected is not counted as a revalidation.
-- BENCH_DELAY_MS, when set, paces each connection (a probe, not a flood).
-- common.lua counts errors and writes the summary.

dofile(os.getenv("BENCH_COMMON"))

local function split(line)
   local f = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      f[#f + 1] = field
   end
   return f
end

function init(args)
   reqs, expects = {}, {}
   local mine, shared = {}, {}
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      local f = split(line)
      local t = tonumber(f[1])
      if t == id then
         mine[#mine + 1] = f
      elseif t == 0 then
         shared[#shared + 1] = f
      end
   end
   if #mine == 0 then
      mine = shared
   end
   for i, f in ipairs(mine) do
      local headers = {}
      if f[4] ~= "" then headers["Authorization"] = "Bearer " .. f[4] end
      if f[5] ~= "" then headers["If-None-Match"] = f[5] end
      local body = nil
      if f[7] ~= nil and f[7] ~= "" then
         body = f[7]
         headers["Content-Type"] = "application/json"
      end
      reqs[i] = wrk.format(f[2], f[3], headers, body)
      expects[i] = tonumber(f[6])
   end
   if #reqs == 0 then
      error("no requests for thread " .. id)
   end
   -- Threads start at different places, so that they do not all ask for
   -- the same item at the same moment.
   n = (id * 7) % #reqs
   cur = 1
end

function request()
   n = n % #reqs + 1
   cur = n
   return reqs[n]
end

function response(status, headers, body)
   if status ~= expects[cur] then
      unexpected_answer(status)
   end
end

local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace then
   function delay()
      return pace
   end
end
