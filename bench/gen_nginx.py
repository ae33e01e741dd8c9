#!/usr/bin/env python3
r"""gen_nginx.py - deterministic benchmark inputs for bench/run.sh.

Writes an nginx "combined" access log with a trailing $request_time (the format WAS hosts
behind a load balancer use), and optionally a Spring Boot log with Java stack traces.
Same seed, same bytes: every shipper in a run and every run on every machine reads the
identical file.

Mix (fixed by the seed): ~80% IPv4 / 20% IPv6 clients; ~10% of lines carry an
X-Forwarded-For list before the remote address ("203.0.113.7, 10.0.0.1 - - [...]", the form
Filebeat's nginx module accepts); status 2xx 86%, 3xx 6%, 4xx 6%, 5xx 2%; paths with and
without query strings; a dozen real user agents (some with UTF-8); referrers or "-"; a
remote user now and then. Average line ~200 bytes, so 1,000,000 lines is ~200 MB.

The --diverse mix (issue 18) is shaped like access logs that are not ours: half the clients
IPv6 (compressed, full and v4-mapped forms); servers in +0900, -0500, +0530, +0100 and +0000;
a remote user on one line in five; percent-encoded query strings and referrers (UTF-8 search
terms, nested URLs); user agents with raw UTF-8 or with nginx's own escapes (\x22 for a quote,
\xNN for bytes outside ASCII, escape=default); $request_time on every line; one URL in
twenty 300-1500 bytes long (tracking parameters, base64 state). Average line ~330 bytes.

Usage:
  gen_nginx.py --lines N --out FILE [--seed S]
  gen_nginx.py --diverse --lines N --out FILE [--seed S]
  gen_nginx.py --spring --lines N --out FILE [--seed S]   (N log records; traces add lines)
"""
import argparse
import random
import sys
import time

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.163 Mobile Safari/537.36",
    "curl/7.88.1",
    "Go-http-client/1.1",
    "kube-probe/1.28",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 13; SM-A536N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36 NAVER(inapp; search; 한국어)",
    "okhttp/4.12.0",
]
METHODS = ["GET"] * 80 + ["POST"] * 14 + ["PUT"] * 3 + ["DELETE"] * 2 + ["HEAD"]
PATHS = [
    "/", "/index.html", "/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/users/{id}/profile",
    "/api/v2/search", "/static/js/app.{id}.js", "/static/css/main.css", "/images/p/{id}.jpg",
    "/health", "/actuator/prometheus", "/login", "/cart/add", "/products/{id}",
    "/api/v1/payments/{id}/confirm", "/favicon.ico",
]
QUERIES = [
    "", "", "", "?page={n}", "?q=shoes&sort=price_asc&page={n}", "?id={n}&lang=ko",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=w{n}",
]
REFERRERS = ["-", "-", "-", "https://www.example.com/", "https://shop.example.com/products/{n}",
             "https://search.naver.com/search.naver?query=shop", "https://www.google.com/"]
USERS = ["-"] * 30 + ["alice", "bob"]
STATUS = ([200] * 80 + [201] * 3 + [204] * 3 + [301] * 2 + [302] * 2 + [304] * 2 +
          [400] * 1 + [401] * 1 + [403] * 1 + [404] * 3 + [499] * 0 + [500] * 1 + [502] * 1)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def ipv4(r):
    return f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def ipv6(r):
    return "2001:db8:%x:%x::%x" % (r.randrange(65536), r.randrange(65536), r.randrange(1, 65536))


def put_line(f, buf, *fields):
    """One combined line + $request_time into buf, written out 10,000 lines at a time."""
    buf.append('%s - %s [%s] "%s %s HTTP/%s" %d %d "%s" "%s" %.3f\n' % fields)
    if len(buf) >= 10000:
        f.write("".join(buf))
        buf.clear()


def gen_nginx(n, out, seed):
    r = random.Random(seed)
    t0 = 1795680000  # 2026-11-26T08:00:00Z, fixed so the file is identical on every run
    # Pre-render a pool of clients and agents so generation stays fast (~1 s per 200k lines).
    clients = [ipv6(r) if r.random() < 0.2 else ipv4(r) for _ in range(5000)]
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        buf = []
        for i in range(n):
            ts = t0 + i // 400  # 400 requests per second
            tm = time.gmtime(ts)
            tl = "%02d/%s/%04d:%02d:%02d:%02d +0000" % (tm.tm_mday, MONTHS[tm.tm_mon - 1],
                                                        tm.tm_year, tm.tm_hour, tm.tm_min,
                                                        tm.tm_sec)
            client = clients[r.randrange(len(clients))]
            if r.random() < 0.10:
                client = "%s, 10.%d.%d.%d" % (ipv4(r), r.randrange(256), r.randrange(256),
                                              r.randrange(1, 255))
            idn = r.randrange(1, 100000)
            path = r.choice(PATHS).replace("{id}", str(idn))
            path += r.choice(QUERIES).replace("{n}", str(r.randrange(1, 50)))
            status = r.choice(STATUS)
            size = 0 if status in (204, 304) else r.randrange(120, 60000)
            ref = r.choice(REFERRERS).replace("{n}", str(idn))
            rt = r.expovariate(1 / 0.045)
            put_line(f, buf, client, r.choice(USERS), tl, r.choice(METHODS), path,
                     "2.0" if r.random() < 0.3 else "1.1", status, size, ref, r.choice(AGENTS), rt)
        f.write("".join(buf))


D_ZONES = [("+0900", 9 * 3600)] * 4 + [("-0500", -5 * 3600)] * 2 + [("+0530", 19800),
                                                                   ("+0100", 3600), ("+0000", 0)]
D_WORDS = ["신발", "운동화 세일", "café crème", "naïve bayes", "東京 ホテル", "zapatos rojos",
           "a+b=c", "100% cotton", "size:42&color=red", "\"quoted\"", "path/with/slashes"]
D_AGENTS = AGENTS + [
    # nginx escape=default writes '"' as \x22 and bytes >= 0x7f as \xNN
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; \\x22Evil\\x22)",
    "Mozilla/5.0 (Linux; Android 13; SM-A536N) AppleWebKit/537.36 NAVER(inapp; search; "
    "\\xED\\x95\\x9C\\xEA\\xB5\\xAD\\xEC\\x96\\xB4)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 \\x22beta\\x22",
    "Dalvik/2.1.0 (Linux; U; Android 12; Pixel 6 Build/SQ3A.220705.004) 카카오톡/10.4.5",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/436.0.0.28.107;FBBV/537553466;FBDV/iPhone14,5;"
    "FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBCR/;FBID/phone;FBLC/ja_JP;FBOP/5]",
]
D_USERS = ["-"] * 4 + ["alice", "bob@example.com", "svc-deploy", "김철수", "o'brien"]


def pct(s, safe=""):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        out.append(c if (c.isalnum() and b < 128) or c in "-._~" + safe else "%%%02X" % b)
    return "".join(out)


def ipv6_any(r):
    k = r.random()
    if k < 0.6:
        return "2001:db8:%x:%x::%x" % (r.randrange(65536), r.randrange(65536), r.randrange(1, 65536))
    if k < 0.85:
        return ":".join("%x" % r.randrange(65536) for _ in range(8))
    return "::ffff:" + ipv4(r)


def gen_diverse(n, out, seed):
    r = random.Random(seed)
    t0 = 1795680000
    clients = [ipv6_any(r) if r.random() < 0.5 else ipv4(r) for _ in range(20000)]
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        buf = []
        zone, zoff = D_ZONES[0]
        for i in range(n):
            if i % 50000 == 0:  # a file is written by one server: its zone changes seldom
                zone, zoff = r.choice(D_ZONES)
            # 25 requests a second, one line in ten a second late (logged when the request
            # ends): the second changes every few lines, not every 400
            ts = t0 + i // 25 - (r.random() < 0.1)
            tm = time.gmtime(ts + zoff)
            tl = "%02d/%s/%04d:%02d:%02d:%02d %s" % (tm.tm_mday, MONTHS[tm.tm_mon - 1],
                                                     tm.tm_year, tm.tm_hour, tm.tm_min,
                                                     tm.tm_sec, zone)
            client = clients[r.randrange(len(clients))]
            idn = r.randrange(1, 10000000)
            path = r.choice(PATHS).replace("{id}", str(idn))
            k = r.random()
            if k < 0.35:
                path += "?q=%s&page=%d" % (pct(r.choice(D_WORDS)), r.randrange(1, 50))
            elif k < 0.55:
                path += r.choice(QUERIES).replace("{n}", str(r.randrange(1, 50)))
            elif k < 0.60:  # long: tracking parameters and an encoded state blob
                blob = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789+/=") for _ in range(r.randrange(200, 1300)))
                path += "?utm_source=%s&fbclid=%x&state=%s" % (
                    pct("news letter/ko"), r.getrandbits(96), pct(blob))
            kr = r.random()
            if kr < 0.35:
                ref = "-"
            elif kr < 0.7:
                ref = "https://www.google.com/search?q=%s&hl=ko" % pct(r.choice(D_WORDS))
            elif kr < 0.85:
                ref = "https://l.facebook.com/l.php?u=%s" % pct(
                    "https://shop.example.com/products/%d?ref=fb" % idn)
            else:
                ref = "https://shop.example.com/products/%d" % idn
            status = r.choice(STATUS)
            size = 0 if status in (204, 304) else r.randrange(0, 2000000)
            rt = r.expovariate(1 / 0.08)
            put_line(f, buf, client, r.choice(D_USERS), tl, r.choice(METHODS), path,
                     "2.0" if r.random() < 0.4 else "1.1", status, size, ref, r.choice(D_AGENTS),
                     rt)
        f.write("".join(buf))


TRACE_HEAD = [
    "java.lang.IllegalStateException: order {id} is already paid",
    "org.springframework.dao.DataIntegrityViolationException: could not execute statement; "
    "SQL [n/a]; constraint [uk_order_no]",
    "java.lang.NullPointerException: Cannot invoke \"com.example.shop.Cart.items()\" because "
    "\"cart\" is null",
]
FRAMES = [
    "com.example.shop.order.OrderService.pay(OrderService.java:{n})",
    "com.example.shop.order.OrderController.pay(OrderController.java:{n})",
    "java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
    "java.base/java.lang.reflect.Method.invoke(Method.java:580)",
    "org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)",
    "org.springframework.web.servlet.mvc.method.annotation.ServletInvocableHandlerMethod.invokeAndHandle(ServletInvocableHandlerMethod.java:118)",
    "org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
    "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:174)",
    "org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
]
LOGGERS = ["c.e.shop.order.OrderController", "c.e.shop.cart.CartService",
           "o.s.web.servlet.DispatcherServlet", "c.e.shop.payment.PaymentClient",
           "o.h.engine.jdbc.spi.SqlExceptionHelper"]


def gen_spring(n, out, seed):
    """Spring Boot 3 default console format; ~2% of records are ERRORs with a stack trace
    (10-25 frames, sometimes a "Caused by:" and "... N more")."""
    r = random.Random(seed)
    t0 = 1795680000
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for i in range(n):
            ms = t0 * 1000 + i * 7
            tm = time.gmtime(ms // 1000)
            ts = "%04d-%02d-%02dT%02d:%02d:%02d.%03d+09:00" % (
                tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000)
            err = r.random() < 0.02
            level = "ERROR" if err else r.choice(["INFO"] * 8 + ["WARN", "DEBUG"])
            thread = "http-nio-8080-exec-%d" % r.randrange(1, 201)
            idn = r.randrange(1, 100000)
            msg = ("Request failed for order %d" % idn if err else
                   "Handled %s /api/v1/orders/%d in %d ms" % (r.choice(["GET", "POST"]), idn,
                                                            r.randrange(1, 900)))
            f.write("%s %5s 4242 --- [shop] [%15s] %-40s : %s\n" % (
                ts, level, thread[-15:], r.choice(LOGGERS), msg))
            if err:
                f.write(r.choice(TRACE_HEAD).replace("{id}", str(idn)) + "\n")
                for _ in range(r.randrange(10, 26)):
                    f.write("\tat " + r.choice(FRAMES).replace("{n}", str(r.randrange(20, 400)))
                            + "\n")
                if r.random() < 0.5:
                    f.write("Caused by: java.sql.SQLIntegrityConstraintViolationException: "
                            "Duplicate entry '%d' for key 'uk_order_no'\n" % idn)
                    f.write("\tat " + FRAMES[0].replace("{n}", "77") + "\n")
                    f.write("\t... %d more\n" % r.randrange(5, 40))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--spring", action="store_true", help="Spring Boot log instead of nginx")
    ap.add_argument("--diverse", action="store_true",
                    help="nginx lines shaped like other sites' logs (issue 18)")
    a = ap.parse_args()
    gen = gen_spring if a.spring else gen_diverse if a.diverse else gen_nginx
    gen(a.lines, a.out, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
