dofile(os.getenv("WRK_DIR") .. "/ids.lua")

request = function()
  return wrk.format("GET", "/" .. random_id())
end
