dofile(os.getenv("WRK_DIR") .. "/ids.lua")

local statuses = {"open", "in-review", "awaiting-info"}

request = function()
  local body = '{"status": "' .. statuses[math.random(#statuses)] .. '"}'
  return wrk.format("PUT", "/" .. random_id() .. "/status",
                    {["Content-Type"] = "application/json"}, body)
end
