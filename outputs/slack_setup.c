/*
 * slack_setup.c - `logferry setup` for the Slack and webhook outputs: with `kibana_url`,
 * imports logferry's Kibana saved objects (data view, visualisations, dashboard; the file
 * `kibana_objects`, installed by the package) through Kibana's saved-objects import API
 * (POST /api/saved_objects/_import?overwrite=true, multipart, `kbn-xsrf`), as
 * `filebeat setup --dashboards` does. The objects have fixed ids (logferry-*), so overwrite
 * replaces logferry's own objects only; the alerts' links open the data view imported here.
 *
 * Credentials: `kibana_api_key` (Authorization: ApiKey) or `kibana_username` /
 * `kibana_password` (basic). They are secrets: never formatted into a message; the URL is
 * shown masked.
 *
 * Threads: the main thread of `logferry setup` only.
 */
#include "outputs/slack.h"
#include "agent/base/log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct answer {
    char body[2048];
    size_t len;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct answer *a = ud;
    size_t n = sz * nm, room = sizeof a->body - 1 - a->len;
    memcpy(a->body + a->len, p, n < room ? n : room);
    a->len += n < room ? n : room;
    a->body[a->len] = '\0';
    return n;
}

int sl_setup_kibana(const struct slack_conf *sc, char *msg, size_t msgsz)
{
    if (!sc->kibana_url || !*sc->kibana_url) {
        snprintf(msg, msgsz, "nothing to set up (no kibana_url)");
        return 0;
    }
    char masked[160], url[1024], auth[1200];
    lf_mask_url(sc->kibana_url, masked, sizeof masked);
    size_t base = strlen(sc->kibana_url);
    while (base && sc->kibana_url[base - 1] == '/')
        base--;
    if (snprintf(url, sizeof url, "%.*s/api/saved_objects/_import?overwrite=true", (int)base,
                 sc->kibana_url) >= (int)sizeof url) {
        snprintf(msg, msgsz, "kibana_url is too long");
        return -1;
    }
    FILE *f = fopen(sc->kibana_objects, "rb");
    if (!f) {
        snprintf(msg, msgsz, "cannot read the saved objects %s (kibana_objects)", sc->kibana_objects);
        return -1;
    }
    fclose(f);
    CURL *c = curl_easy_init();
    curl_mime *mime = c ? curl_mime_init(c) : NULL;
    if (!c || !mime) {
        snprintf(msg, msgsz, "cannot create a curl handle");
        curl_easy_cleanup(c);
        return -1;
    }
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "file");
    curl_mime_filedata(part, sc->kibana_objects);
    curl_mime_filename(part, "logferry-kibana.ndjson");
    struct curl_slist *hdr = curl_slist_append(NULL, "kbn-xsrf: logferry");
    if (sc->kibana_api_key && *sc->kibana_api_key) {
        snprintf(auth, sizeof auth, "Authorization: ApiKey %s", sc->kibana_api_key);
        hdr = curl_slist_append(hdr, auth);
    } else if (sc->kibana_username && *sc->kibana_username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, sc->kibana_username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, sc->kibana_password ? sc->kibana_password : "");
    }
    struct answer a = {.len = 0};
    a.body[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, sc->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, sc->timeout_ms * 3);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    memset(auth, 0, sizeof auth);
    curl_slist_free_all(hdr);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    char answer[300];
    sl_printable(a.body, answer, sizeof answer);
    if (rc != CURLE_OK) {
        snprintf(msg, msgsz, "importing the Kibana saved objects into %s failed: %s", masked,
                 curl_easy_strerror(rc));
        return -1;
    }
    if (code != 200 || !strstr(a.body, "\"success\":true")) {
        snprintf(msg, msgsz, "Kibana at %s refused the saved objects: HTTP %ld %s", masked, code,
                 answer);
        return -1;
    }
    const char *cnt = strstr(a.body, "\"successCount\":");
    snprintf(msg, msgsz, "imported %ld Kibana saved objects into %s (data view %s; overwrite "
             "replaces logferry's own objects only)",
             cnt ? strtol(cnt + 15, NULL, 10) : 0L, masked, sc->kibana_data_view);
    return 0;
}
