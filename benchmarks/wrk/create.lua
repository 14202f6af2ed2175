wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject": "bench", "model": "pil", "establishment": {"id": 7}}'
