dofile(os.getenv("WRK_DIR") .. "/ids.lua")

request = function()
  local body = '{"data": {"note": "checked by officer ' .. math.random(1000) .. '"}}'
  return wrk.format("PUT", "/" .. random_id(), {["Content-Type"] = "application/json"}, body)
end
