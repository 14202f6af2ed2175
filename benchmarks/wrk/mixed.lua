-- A mixed load: 80% GET /{id}, 15% PUT /{id}/status, 5% POST /.
dofile(os.getenv("WRK_DIR") .. "/ids.lua")

local statuses = {"open", "in-review", "awaiting-info"}

request = function()
  local roll = math.random(100)
  if roll <= 80 then
    return wrk.format("GET", "/" .. random_id())
  elseif roll <= 95 then
    local body = '{"status": "' .. statuses[math.random(#statuses)] .. '"}'
    return wrk.format("PUT", "/" .. random_id() .. "/status",
                      {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("POST", "/", {["Content-Type"] = "application/json"},
                    '{"subject": "bench", "model": "pil"}')
end
