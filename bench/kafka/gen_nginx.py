#!/usr/bin/env python3
"""gen_nginx.py N OUT - N nginx "combined" access-log lines, deterministic (seeded), with a
realistic mix of clients, paths, statuses (about 1% 5xx), sizes, referrers and user agents.
Each line carries its number in the request path query (?n=NUMBER) so deliveries can be
counted end to end."""
import random, sys

n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(42)
ips = [f"{rnd.randint(1,223)}.{rnd.randint(0,255)}.{rnd.randint(0,255)}.{rnd.randint(1,254)}" for _ in range(500)]
paths = ["/", "/index.html", "/api/v1/orders", "/api/v1/users/42", "/static/app.js",
         "/static/style.css", "/favicon.ico", "/login", "/search", "/api/v1/cart/items"]
uas = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
       "curl/7.88.1", "Go-http-client/1.1",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"]
refs = ["-", "https://example.com/", "https://www.google.com/search?q=shop"]
statuses = [200] * 80 + [304] * 8 + [404] * 6 + [301] * 3 + [400, 403] + [500]
with open(out, "w") as f:
    for i in range(n):
        sec = i // 2000
        ts = f"26/Nov/2026:{(sec // 3600) % 24:02d}:{(sec // 60) % 60:02d}:{sec % 60:02d} +0000"
        st = rnd.choice(statuses)
        f.write(f'{rnd.choice(ips)} - - [{ts}] "{rnd.choice(["GET"]*8+["POST","PUT"])} '
                f'{rnd.choice(paths)}?n={i} HTTP/1.1" {st} {rnd.randint(0, 50000) if st != 304 else 0} '
                f'"{rnd.choice(refs)}" "{rnd.choice(uas)}"\n')
