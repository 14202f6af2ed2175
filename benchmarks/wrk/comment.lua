dofile(os.getenv("WRK_DIR") .. "/ids.lua")

request = function()
  local body = '{"comment": "Called the applicant about item ' .. math.random(1000) .. '"}'
  return wrk.format("POST", "/" .. random_id() .. "/comment",
                    {["Content-Type"] = "application/json"}, body)
end
