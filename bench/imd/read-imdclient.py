"""imdclient's IMDClient reading the benchmark server to EOF; prints JSON {frames, seconds, cpu_ms, latencies_ms}
(seconds and cpu_ms, this process's CPU time, all threads, from the first frame on)."""
import json
import sys
import time

from imdclient.IMDClient import IMDClient

port, atoms = int(sys.argv[1]), int(sys.argv[2])
client = IMDClient("127.0.0.1", port, atoms)
n, lat, t0, c0 = 0, [], None, None
try:
    while True:
        f = client.get_imdframe()
        now = time.time() * 1000
        if t0 is None:
            t0 = time.perf_counter()
            c0 = time.process_time()
        lat.append(now - float(f.time))
        n += 1
except EOFError:
    pass
seconds = time.perf_counter() - t0
cpu_ms = (time.process_time() - c0) * 1000
client.stop()
print(json.dumps({"frames": n, "seconds": seconds, "cpu_ms": cpu_ms, "latencies_ms": lat}))
