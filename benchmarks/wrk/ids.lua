-- Shared by the wrk scripts: case ids from the file named by the IDS environment variable.
local ids = {}
for line in io.lines(os.getenv("IDS")) do
  ids[#ids + 1] = line
end
math.randomseed(os.time() + math.floor(os.clock() * 1000000))

function random_id()
  return ids[math.random(#ids)]
end
