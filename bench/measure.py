#!/usr/bin/env python3
"""measure.py CMD...: run CMD, then print 'wall=<s> rss_mb=<peak RSS of the child in MB>' on stderr.
Exit status is the command's. Uses getrusage(RUSAGE_CHILDREN), so no /usr/bin/time is needed."""
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[1:])
wall = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
print(f"wall={wall:.3f} rss_mb={rss:.1f}", file=sys.stderr)
sys.exit(rc)
