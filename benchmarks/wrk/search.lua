-- GET /?q=<a word on 20 cases>, a different word each request; FIND_WORDS words exist
-- (benchmarks/finding_seed.sql), FIND_EXTRA is appended to the query (say "&status=open").
local words = tonumber(os.getenv("FIND_WORDS"))
local extra = os.getenv("FIND_EXTRA") or ""
math.randomseed(os.time() + math.floor(os.clock() * 1000000))

request = function()
  return wrk.format("GET", "/?q=w" .. math.random(0, words - 1) .. "x" .. extra)
end
