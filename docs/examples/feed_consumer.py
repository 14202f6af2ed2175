"""Follow a taskflow change feed: handle each event once, in order, resuming where it left off.

python feed_consumer.py http://127.0.0.1:8000 /tmp/taskflow-cursor.txt
"""

import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

base_url, cursor_file = sys.argv[1], Path(sys.argv[2])
cursor = cursor_file.read_text() if cursor_file.exists() else None

while True:
    # Held open by the server until something commits, or for 25 seconds.
    query = urllib.parse.urlencode({"wait": 25, **({"after": cursor} if cursor else {})})
    with urllib.request.urlopen(f"{base_url}/_changes?{query}", timeout=35) as response:
        page = json.load(response)
    for item in page["data"]:
        entry = item["entry"]
        print(item["caseId"], entry["eventName"], entry["changedBy"], flush=True)
        # Saved after handling: a crash in between repeats this one item, never skips it.
        cursor = item["cursor"]
        cursor_file.write_text(cursor)
