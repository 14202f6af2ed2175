-- The soak's traffic: a casework office's mix of reads, status changes, new cases and inbox
-- listings, each request chosen at random.
dofile(os.getenv("WRK_DIR") .. "/ids.lua")

local statuses = {"open", "in-review", "awaiting-info"}
local json = {["Content-Type"] = "application/json"}

request = function()
  local roll = math.random(100)
  if roll <= 60 then
    return wrk.format("GET", "/" .. random_id())
  elseif roll <= 80 then
    local body = '{"status": "' .. statuses[math.random(#statuses)] .. '"}'
    return wrk.format("PUT", "/" .. random_id() .. "/status", json, body)
  elseif roll <= 90 then
    return wrk.format("POST", "/", json, '{"subject": "soak", "model": "pil"}')
  else
    return wrk.format("GET", "/?status=in-review&limit=20")
  end
end
