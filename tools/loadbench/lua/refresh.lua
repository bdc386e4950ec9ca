-- refresh.lua: each wrk thread (one connection) follows its own refresh
-- token rotation chain: it presents its refresh token, and the next request
-- presents the one the answer returned. The starting tokens are the lines of
-- the file named by BENCH_REQUESTS (line n for thread n). An answer that is
-- not 200 breaks the chain (the next request reuses a rotated token, which
-- the server treats as theft), so zero errors means every rotation worked.
-- common.lua counts errors and writes the summary.

dofile(os.getenv("BENCH_COMMON"))

function init(args)
   local i = 1
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      if i == id then
         token = line
      end
      i = i + 1
   end
   if token == nil then
      error("no refresh token for thread " .. id)
   end
   headers = { ["Content-Type"] = "application/json" }
end

function request()
   return wrk.format("POST", "/api/token/refresh/", headers, '{"refresh":"' .. token .. '"}')
end

function response(status, hdrs, body)
   if status == 200 then
      local t = body:match('"refresh"%s*:%s*"([^"]+)"')
      if t then
         token = t
         return
      end
   end
   unexpected_answer(status)
end
