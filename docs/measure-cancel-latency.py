# Cancellation latency of `noether reproduce --profile default` per step (docs/reliability.md):
# python3 docs/measure-cancel-latency.py STEP,STEP,... DELAY,DELAY  (from the repository root, after a Release build)
import subprocess, time, os, signal, sys, tempfile, shutil, json
dll = os.environ.get("NOETHER_DLL", "src/Noether.Cli/bin/Release/net10.0/Noether.Cli.dll")
steps = sys.argv[1].split(",")
delays = [float(x) for x in sys.argv[2].split(",")]
results = []
for step in steps:
    only = f"train,{step}" if step in ("ensemble", "attack") else step
    for d in delays:
        out = tempfile.mkdtemp(prefix="lat-")
        env = dict(os.environ, NO_COLOR="1")
        p = subprocess.Popen(["dotnet", dll, "reproduce", "--profile", "default", "--only", only, "--out", out + "/r"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        marker = f": {step} ·"
        started = None
        for line in p.stdout:
            if "step" in line and marker in line:
                started = time.monotonic(); break
        if started is None:
            results.append((step, d, "no start", p.wait())); continue
        while time.monotonic() - started < d:
            if p.poll() is not None: break
            time.sleep(0.01)
        if p.poll() is not None:
            results.append((step, d, "finished before signal", p.returncode)); shutil.rmtree(out, ignore_errors=True); continue
        t0 = time.monotonic(); p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()
        lat = time.monotonic() - t0
        err = p.stderr.read().strip().splitlines()
        left = sorted(os.listdir(out))
        results.append((step, d, round(lat, 2), p.returncode, err[-1][:100] if err else "", left))
        print(results[-1], flush=True)
        shutil.rmtree(out, ignore_errors=True)
