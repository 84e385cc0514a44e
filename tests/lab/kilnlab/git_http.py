"""A small git smart-HTTP server for the lab: `git http-backend` behind http.server.

Every bare repository under the root is served at once at /<name>.git. Repositories under private/
ask for HTTP basic auth; the accepted user and password are read from the file named by --auth
("user:password" on one line; a token is accepted as the password for any user name).
"""

import argparse
import base64
import hmac
import os
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    root = None
    auth_file = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # one line per request, no credentials (headers are not logged)
        print("%s %s" % (self.address_string(), fmt % args), flush=True)

    def _authorised(self, path):
        if not path.startswith("/private/"):
            return True
        try:
            user, _, password = open(self.auth_file).read().strip().partition(":")
        except OSError:
            return False
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            given_user, _, given_password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        good_password = hmac.compare_digest(given_password.encode(), password.encode())
        return good_password and (given_user == user or given_user in ("x-access-token", "oauth2", "token"))

    def _serve(self):
        path, _, query = self.path.partition("?")
        if not self._authorised(path):
            body = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="kiln lab git"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_CONFIG_COUNT": "3",
            "GIT_CONFIG_KEY_0": "uploadpack.allowAnySHA1InWant",
            "GIT_CONFIG_VALUE_0": "true",
            "GIT_CONFIG_KEY_1": "safe.directory",
            "GIT_CONFIG_VALUE_1": "*",
            "GIT_CONFIG_KEY_2": "http.receivepack",
            "GIT_CONFIG_VALUE_2": "true",
        }
        for header, var in (("Git-Protocol", "HTTP_GIT_PROTOCOL"), ("Content-Encoding", "HTTP_CONTENT_ENCODING")):
            if self.headers.get(header):
                env[var] = self.headers[header]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        if proc.returncode != 0 and status == 200:
            status = 500
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--auth", required=True)
    args = parser.parse_args()
    Handler.root = args.root
    Handler.auth_file = args.auth
    ThreadingHTTPServer((args.listen, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
