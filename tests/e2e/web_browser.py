#!/usr/bin/python3
"""Browser checks of `lscgate web` (issue 14), driven by Selenium (Debian's
python3-selenium) in headless Chromium (Debian's chromium + chromium-driver).

Started by tests/e2e/test_web.sh with a running `lscgate web` and `lscgate
serve`. Prints one "ok   - ..." or "FAIL - ..." line per check (as lib.sh
does) and exits 1 when a check failed. Environment: WEB_URL, LSCGATE, CAPF_DIR,
CAPF_PORT, WORK, SHOTS (where the screenshots go), COA_PORT (the switch's CoA
listener), and the passwords ALICE_PW (admin), HUGO_PW (helpdesk), CAROL_PW
(admin, to be locked out)."""

import csv
import io
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ["WEB_URL"]
HOST = urllib.parse.urlparse(URL)
FAILS = 0
CHECKS = 0


def check(ok, what, detail=""):
    global FAILS, CHECKS
    CHECKS += 1
    if ok:
        print("ok   - " + what, flush=True)
    else:
        FAILS += 1
        print("FAIL - " + what + (": " + detail if detail else ""), flush=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", "--window-size=1280,1000",
                "--user-data-dir=" + os.path.join(os.environ["WORK"], "chromium-profile")):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


def submit(driver, button):
    """Clicks a button or link and waits (bounded) until the answer replaced the
    page: a click returns before the request has been answered."""
    button.click()

    def replaced(_):
        try:
            button.is_enabled()
            return False
        except WebDriverException:  # stale; this Chromium also says "does not belong to the document"
            return True

    WebDriverWait(driver, 30).until(replaced)


def sign_in(driver, name, password):
    driver.get(URL + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    submit(driver, driver.find_element(By.ID, "signin"))


def reached(driver, test):
    """Whether the browser gets to a page for which test(url) holds (bounded wait: a
    click returns before a redirect it caused has been followed)."""
    try:
        WebDriverWait(driver, 30).until(lambda d: test(d.current_url))
        return True
    except TimeoutException:
        return False


def text_of(driver, css):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def raw_request(method, path, cookie="", body=None):
    """One HTTPS request outside the browser (the certificate is self-signed)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(HOST.hostname, HOST.port, context=ctx, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    out = (resp.status, resp.getheaders(), resp.read().decode("utf-8", "replace"))
    conn.close()
    return out


def session_cookie(driver):
    return "; ".join(c["name"] + "=" + c["value"] for c in driver.get_cookies())


def phone(name, auth_string=None):
    cmd = [os.environ["LSCGATE"], "phone", "--server", "127.0.0.1:" + os.environ["CAPF_PORT"], "--capf-cert",
           os.path.join(os.environ["CAPF_DIR"], "capf.crt"), "--name", name, "--out",
           os.path.join(os.environ["WORK"], "phones")]
    if auth_string is not None:
        cmd += ["--auth-string", auth_string]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def lscgate(*args):
    return subprocess.run([os.environ["LSCGATE"], "--dir", os.environ["CAPF_DIR"]] + list(args), capture_output=True,
                          text=True, timeout=120)


def rollout_cells(driver, name):
    """The dashboard's counts of rollout `name`: {"succeeded": "1", "pending": "2", ...}."""
    driver.get(URL + "/")
    row = driver.find_element(By.ID, "rollout-" + name)
    return {c: row.find_element(By.CSS_SELECTOR, "td." + c).text
            for c in ("succeeded", "failed", "pending", "waiting", "skipped")}


def write_file(name, text):
    path = os.path.join(os.environ["WORK"], name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def open_device(driver, name):
    driver.get(URL + "/devices?q=" + urllib.parse.quote(name))
    submit(driver, driver.find_element(By.LINK_TEXT, name))


def admin_flow(driver):
    sign_in(driver, "alice", os.environ["ALICE_PW"])
    check(reached(driver, lambda u: u.rstrip("/") == URL), "alice signs in and lands on the dashboard",
          driver.current_url)
    check("Devices by LSC status" in driver.page_source, "the dashboard shows devices by LSC status")
    check(len(text_of(driver, "#capf td.days")) == 1, "the dashboard shows the CAPF certificate's days left")
    mic = driver.find_element(By.ID, "mic-seen").text
    check(mic.startswith("1 phones authenticated at RADIUS with their MIC last (of 2 seen)"),
          "the dashboard counts the phones RADIUS last saw with their MIC", mic)

    # Schedule an install, see it pending, enrol with the simulator, see it installed.
    open_device(driver, "SEP0000000000A1")
    Select(driver.find_element(By.ID, "kind")).select_by_visible_text("install")
    Select(driver.find_element(By.ID, "auth")).select_by_visible_text("null")
    Select(driver.find_element(By.ID, "key")).select_by_visible_text("ec:p256")
    driver.find_element(By.ID, "by").send_keys("+7d")
    submit(driver, driver.find_element(By.ID, "schedule"))
    check("Scheduled install for SEP0000000000A1" in driver.find_element(By.ID, "result").text,
          "the schedule form answers 'Scheduled install'")
    submit(driver, driver.find_element(By.ID, "back"))
    states = text_of(driver, "#operations td.state")
    check(states[:1] == ["pending"], "the device page shows the install pending", str(states))
    run = phone("SEP0000000000A1")
    check(run.returncode == 0 and "END_SESSION(1) installed" in run.stdout + run.stderr,
          "the simulated phone enrols against lscgate serve", run.stdout + run.stderr)
    driver.refresh()
    states = text_of(driver, "#operations td.state")
    check(states[:1] == ["succeeded"], "after the enrolment the operation is succeeded", str(states))
    check("active" in text_of(driver, "#certificates td.cert-status"), "the device page shows the active LSC")
    check("succeeded" in text_of(driver, "#sessions td.result"), "the device page lists the CAPF session that installed it")
    check(text_of(driver, "#sightings td.seen-class") == ["mic"] and "GigabitEthernet1/0/7" in text_of(driver, "#sightings td"),
          "the device page shows the last RADIUS sighting (class, switch port)")
    findings = text_of(driver, "#device-doctor td.mono")
    check(any(f.startswith("device") for f in findings), "the device page shows doctor's findings for it", str(findings))
    shot = os.path.join(os.environ["SHOTS"], "device.png")
    check(driver.save_screenshot(shot), "device page screenshot " + shot)

    # Revoke it and see the status.
    Select(driver.find_element(By.ID, "reason")).select_by_visible_text("key-compromise")
    submit(driver, driver.find_element(By.ID, "revoke"))
    result = driver.find_element(By.ID, "result").text
    check("Revoked lsc serial" in result and "CRL" in result, "revoking answers with the serial and the CRL", result)
    check("coa SEP0000000000A1 nas=127.0.0.1:%s ACK" % os.environ["COA_PORT"] in result,
          "with [coa] on_revoke the switch acknowledged the CoA", result)
    submit(driver, driver.find_element(By.ID, "back"))
    check(text_of(driver, "#certificates td.cert-status")[:1] == ["revoked"], "the device page shows it revoked")
    driver.get(URL + "/devices?lsc=revoked")
    check("SEP0000000000A1" in text_of(driver, "#devices td"), "the device list finds it by status revoked")

    # A generated authentication string is shown once.
    open_device(driver, "SEP0000000000A2")
    Select(driver.find_element(By.ID, "auth")).select_by_visible_text("string")
    submit(driver, driver.find_element(By.ID, "schedule"))
    digits = driver.find_element(By.ID, "auth-string").text
    check(re.fullmatch(r"[0-9]{8}", digits) is not None, "a generated authentication string is shown", digits)
    submit(driver, driver.find_element(By.ID, "back"))
    check(digits not in driver.page_source, "the string is not shown again")
    wrong = ("1" if digits[0] != "1" else "2") + digits[1:]
    run = phone("SEP0000000000A2", wrong)
    check(run.returncode != 0, "the phone typing a wrong string is refused", run.stdout + run.stderr)
    driver.refresh()
    check("wrong-string" in text_of(driver, "#sessions td.cause-class"),
          "the device page shows the refused session's cause class", str(text_of(driver, "#sessions td")))

    bulk_flow(driver)
    reports_flow(driver)
    driver.get(URL + "/")
    shot = os.path.join(os.environ["SHOTS"], "dashboard.png")
    check(driver.save_screenshot(shot), "dashboard screenshot " + shot)

    # What the registry says is shown as text, never run as markup.
    open_device(driver, "SEP0000000000A3")
    description = driver.find_element(By.ID, "device-description").text
    check(description == "<script>alert(1)</script>", "a description holding <script> is shown as text", description)
    check(not driver.find_elements(By.TAG_NAME, "script"), "no script element on the page")

    # A POST without the CSRF token is refused, with a live session.
    status, _, _ = raw_request("POST", "/device/schedule", session_cookie(driver),
                               {"name": "SEP0000000000A3", "kind": "install", "auth": "null", "key": "rsa:2048"})
    check(status == 403, "a POST without the CSRF token is refused (403)", str(status))
    driver.get(URL + "/audit")
    check(text_of(driver, "#chain-state")[0].startswith("Intact"), "the audit page shows the chain intact")
    check("web:alice" in text_of(driver, "#audit td"), "the audit page names the account")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.signout button"))
    check(reached(driver, lambda u: u.endswith("/login")), "signing out returns to the sign-in page",
          driver.current_url)


def bulk_flow(driver):
    """A BAT export with a bad line is refused whole, the line named; the corrected
    file is previewed (a dry run), applied in waves of 2, its first device enrolled,
    the next wave scheduled from the dashboard."""
    head = "Device Name,Description,Device Type\r\n"
    rows = ["SEP0000000000B1,Lobby,Cisco 8845\r\n", "SEP0000000000B2,\"Desk, 2nd floor\",Cisco 8845\r\n",
            "SEP0000000000B3,Hall,Cisco 8845\r\n"]
    bad = write_file("phones-bad.csv", head + rows[0] + rows[1] + "SEPBROKEN!,Broken,Cisco 8845\r\n" + rows[2])
    driver.get(URL + "/bulk")
    driver.find_element(By.ID, "file").send_keys(bad)
    submit(driver, driver.find_element(By.ID, "preview"))
    problems = text_of(driver, "#problems li")
    check(len(problems) == 1 and problems[0].startswith("phones-bad.csv:4: "),
          "a bulk upload with a bad line is refused, the line named", str(problems))
    check(not driver.find_elements(By.ID, "apply-form"), "a refused batch offers no Apply")
    ops = json.loads(lscgate("op", "list", "--json").stdout)
    check(not [o for o in ops if o["device"].startswith("SEP0000000000B")], "the refused batch scheduled nothing")

    good = write_file("phones.csv", head + "".join(rows))
    driver.get(URL + "/bulk")
    driver.find_element(By.ID, "file").send_keys(good)
    driver.find_element(By.ID, "wave_size").send_keys("2")
    driver.find_element(By.ID, "rollout").send_keys("web-wave")
    driver.find_element(By.ID, "by").send_keys("+7d")
    submit(driver, driver.find_element(By.ID, "preview"))
    dry = driver.find_element(By.ID, "dry-run").text
    check(dry.startswith("Dry run: 3 devices"), "the preview is a dry run of 3 devices", dry)
    lines = [r.find_elements(By.TAG_NAME, "td")[0].text
             for r in driver.find_elements(By.CSS_SELECTOR, "#preview-devices tbody tr")]
    check(lines == ["2", "3", "4"], "the preview lists each device with its line", str(lines))
    ops = json.loads(lscgate("op", "list", "--json").stdout)
    check(not [o for o in ops if o["device"].startswith("SEP0000000000B")], "the preview scheduled nothing")
    submit(driver, driver.find_element(By.ID, "apply"))
    result = driver.find_element(By.ID, "result").text
    check("Rollout web-wave: 3 devices in 2 waves; wave 1 scheduled: 2 scheduled, 0 skipped." in result,
          "applied in waves: the rollout's first wave is scheduled", result)
    cells = rollout_cells(driver, "web-wave")
    check(cells["pending"] == "2" and cells["waiting"] == "1", "the dashboard shows wave 1 pending", str(cells))
    run = phone("SEP0000000000B1")
    check(run.returncode == 0, "the simulated phone enrols B1", run.stdout + run.stderr)
    cells = rollout_cells(driver, "web-wave")
    check(cells["succeeded"] == "1" and cells["pending"] == "1", "the dashboard counts B1 succeeded", str(cells))
    submit(driver, driver.find_element(By.CSS_SELECTOR, "#rollout-web-wave button.next-wave"))
    check("wave 2 of 2: 1 scheduled" in driver.find_element(By.ID, "result").text, "Next wave schedules wave 2")
    cells = rollout_cells(driver, "web-wave")
    check(cells["pending"] == "2" and cells["waiting"] == "0", "the dashboard shows wave 2 pending", str(cells))


def reports_flow(driver):
    """The LSC report in the page, and its CSV download equal to the CLI's."""
    driver.get(URL + "/reports")
    Select(driver.find_element(By.ID, "report")).select_by_value("lsc")
    submit(driver, driver.find_element(By.ID, "show-report"))
    rows = {}
    headings = text_of(driver, "#report thead th")
    for tr in driver.find_elements(By.CSS_SELECTOR, "#report tbody tr"):
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        rows[cells[0]] = dict(zip(headings, cells))
    check(rows.get("SEP0000000000B1", {}).get("status") == "Installed", "the report shows B1 Installed")
    check(rows.get("SEP0000000000B2", {}).get("status") == "Pending", "the report shows B2 Pending")
    check(rows.get("SEP0000000000A1", {}).get("seen_class") == "mic", "the report shows what RADIUS last saw")
    status, headers, body = raw_request("GET", "/reports.csv?report=lsc", session_cookie(driver))
    disposition = dict((k.lower(), v) for k, v in headers).get("content-disposition", "")
    check(status == 200 and disposition == 'attachment; filename="lscgate-report-lsc.csv"',
          "the report downloads as a CSV attachment", disposition)
    # Bytes, not text: text mode would turn the CSV's CRLF into LF.
    cli = subprocess.run([os.environ["LSCGATE"], "--dir", os.environ["CAPF_DIR"], "report", "lsc", "--all", "--csv",
                          "--seen-file", os.path.join(os.environ["CAPF_DIR"], "seen.db")], capture_output=True, timeout=120)
    cli_csv = cli.stdout.decode("utf-8", "replace")
    check(cli.returncode == 0 and body == cli_csv, "the downloaded CSV is the one lscgate report lsc --csv writes",
          body[:300] + " | " + cli_csv[:300])
    parsed = list(csv.DictReader(io.StringIO(body, newline="")))
    check(len(parsed) == 6 and {r["device"] for r in parsed if r["status"] == "Installed"} == {"SEP0000000000B1"},
          "Python's csv module reads the download", str([(r["device"], r["status"]) for r in parsed]))


def helpdesk_flow(driver):
    sign_in(driver, "hugo", os.environ["HUGO_PW"])
    open_device(driver, "SEP0000000000A2")
    check(not driver.find_elements(By.ID, "schedule-form"), "helpdesk sees no schedule form")
    csrf = driver.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]").get_attribute("value")
    for path, body in (("/device/schedule", {"kind": "install", "auth": "null", "key": "rsa:2048"}),
                       ("/device/cancel", {}), ("/device/revoke", {"reason": "unspecified"})):
        body.update({"name": "SEP0000000000A2", "csrf": csrf})
        status, _, page = raw_request("POST", path, session_cookie(driver), body)
        check(status == 403 and "change nothing" in page, "helpdesk POST " + path + " is refused (403)", str(status))
    status, _, page = raw_request("POST", "/rollout/next", session_cookie(driver), {"name": "web-wave", "csrf": csrf})
    check(status == 403 and "change nothing" in page, "helpdesk POST /rollout/next is refused (403)", str(status))
    driver.refresh()
    check(text_of(driver, "#operations td.state")[:1] == ["pending"], "the helpdesk POSTs changed nothing")
    submit(driver, driver.find_element(By.ID, "doctor-link"))
    checks = text_of(driver, "#findings td.mono")
    check(any(c.startswith("device.") for c in checks) and any(c.startswith("capf") for c in checks),
          "helpdesk runs doctor for the device", str(checks))
    # A query string that is no device name is audited as refused, never verbatim.
    driver.get(URL + "/doctor?device=" + urllib.parse.quote("<b>x</b>' OR 1=1"))
    check("&lt;b&gt;" not in driver.title, "doctor with a junk device name still answers", driver.title)
    driver.get(URL + "/bulk")
    driver.find_element(By.ID, "file").send_keys(os.path.join(os.environ["WORK"], "phones.csv"))
    submit(driver, driver.find_element(By.ID, "preview"))
    check(driver.find_elements(By.ID, "dry-run") and not driver.find_elements(By.ID, "apply-form"),
          "helpdesk may preview a bulk file but is offered no Apply")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.signout button"))
    check(reached(driver, lambda u: u.endswith("/login")), "helpdesk signs out", driver.current_url)


def lockout_flow(driver):
    for i in range(5):
        sign_in(driver, "carol", "not the password %d" % i)
        check("Sign-in refused" in driver.page_source, "wrong password %d refused" % (i + 1))
    sign_in(driver, "carol", os.environ["CAROL_PW"])
    check(driver.current_url.endswith("/login") and "Sign-in refused" in driver.page_source,
          "after five wrong passwords even the right one is refused")
    out = subprocess.run([os.environ["LSCGATE"], "--dir", os.environ["CAPF_DIR"], "admin", "list", "--json"],
                         capture_output=True, text=True, timeout=60)
    carol = [a for a in json.loads(out.stdout) if a["name"] == "carol"]
    check(carol and carol[0]["locked_until"] is not None, "lscgate admin list shows carol locked", out.stdout)


def headers_check():
    status, headers, _ = raw_request("GET", "/login")
    h = {}
    for name, value in headers:
        h.setdefault(name.lower(), []).append(value)
    csp = h.get("content-security-policy", [""])[0]
    check(status == 200 and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, "CSP header", csp)
    check(h.get("strict-transport-security", [""])[0].startswith("max-age="), "HSTS header")
    check(h.get("x-content-type-options") == ["nosniff"], "X-Content-Type-Options nosniff")
    check(h.get("referrer-policy") == ["no-referrer"], "Referrer-Policy no-referrer")
    cookie = h.get("set-cookie", [""])[0]
    check(all(a in cookie for a in ("HttpOnly", "Secure", "SameSite=Strict")), "cookies are HttpOnly, Secure, Strict",
          cookie)


def main():
    headers_check()
    driver = browser()
    try:
        admin_flow(driver)
        helpdesk_flow(driver)
        lockout_flow(driver)
    except (WebDriverException, IndexError) as e:
        check(False, "the pages have what the checks look for", repr(e))
    finally:
        driver.quit()
    print("browser: %d checks, %d failed" % (CHECKS, FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
