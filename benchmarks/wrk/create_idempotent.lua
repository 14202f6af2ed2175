-- POST / with a fresh Idempotency-Key on every request: what a retrying client sends.
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))

request = function()
  counter = counter + 1
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. thread_tag .. "-" .. counter,
  }, '{"subject": "bench", "model": "pil", "establishment": {"id": 7}}')
end
