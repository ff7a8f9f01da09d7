"""The last step of ecs/deploy.sh, against real TLS and HTTP servers on
loopback standing in for the load balancer: with a certificate, the
health check asks for the certificate's name and sends the connection to
the load balancer's address (curl --connect-to), so hostname verification
passes; asking the load balancer's own name, which no certificate covers,
fails. Port 80 must answer 301 to https://. The functions are those of
ecs/lib.sh (public_health, redirects_to_https, check_name), run by bash.

The certificate is made here by openssl: a throwaway CA and a server
certificate for api.taskapi.test; curl trusts the CA through
CURL_CA_BUNDLE."""
import http.server
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnlib  # noqa: E402

LIB = os.path.join(cfnlib.ECS_DIR, "lib.sh")
NAME = "api.taskapi.test"


class Handler(http.server.BaseHTTPRequestHandler):
    redirect = False

    def do_GET(self):
        if self.redirect:
            self.send_response(301)
            self.send_header("Location", "https://%s%s" % (NAME, self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"status":"healthy"}'
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Redirector(Handler):
    redirect = True


def serve(handler, context=None):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context:
        srv.socket = context.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


class PublicHealth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="taskapi-health-")
        d = cls.tmp.name
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                "2", "-subj", "/CN=taskapi test CA", "-keyout", "ca.key",
                "-out", "ca.pem", cwd=d)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
                "/CN=" + NAME, "-keyout", "srv.key", "-out", "srv.csr",
                cwd=d)
        with open(os.path.join(d, "ext"), "w") as f:
            f.write("subjectAltName=DNS:%s\n" % NAME)
        openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", "ext", "-out", "srv.pem", cwd=d)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "srv.pem"),
                            os.path.join(d, "srv.key"))
        cls.https = serve(Handler, ctx)
        cls.http = serve(Redirector)
        cls.env = dict(os.environ, CURL_CA_BUNDLE=os.path.join(d, "ca.pem"),
                       HEALTH_TRIES="2", HEALTH_SLEEP_S="0")

    @classmethod
    def tearDownClass(cls):
        for srv in (cls.https, cls.http):
            srv.shutdown()
            srv.server_close()
        cls.tmp.cleanup()

    def lib(self, *call):
        return subprocess.run(
            ["bash", "-c", 'PROG=test; . "$0"; "$@"', LIB] + list(call),
            env=self.env, capture_output=True, text=True, timeout=60)

    def test_certificate_name_at_the_balancer_passes(self):
        port = self.https.server_address[1]
        r = self.lib("public_health", "https://%s/health" % NAME,
                     "%s:443:127.0.0.1:%d" % (NAME, port))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_balancer_name_fails_hostname_check(self):
        # What the script did before: https://<load balancer DNS name>.
        port = self.https.server_address[1]
        r = self.lib("public_health", "https://127.0.0.1:%d/health" % port)
        self.assertEqual(r.returncode, 1)
        # The server is up: it is the name that fails (curl exit 60).
        r = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null",
             "https://127.0.0.1:%d/health" % port], env=self.env,
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 60, r.stderr)

    def test_port_80_redirect(self):
        port = self.http.server_address[1]
        r = self.lib("redirects_to_https", "http://127.0.0.1:%d/health" % port)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A plain 200 on port 80 is not a redirect.
        port = self.https.server_address[1]
        plain = serve(Handler)
        try:
            r = self.lib("redirects_to_https", "http://127.0.0.1:%d/health"
                         % plain.server_address[1])
        finally:
            plain.shutdown()
            plain.server_close()
        self.assertEqual(r.returncode, 1)
        self.assertIn("answered: 200", r.stderr)

    def test_wildcard_certificate_gets_a_label(self):
        r = self.lib("check_name", "*.example.com", "taskapi")
        self.assertEqual(r.stdout.strip(), "taskapi-deploy-check.example.com")
        r = self.lib("check_name", "api.example.com", "taskapi")
        self.assertEqual(r.stdout.strip(), "api.example.com")


if __name__ == "__main__":
    unittest.main(verbosity=2)
