"""A local HTTP endpoint for bench/run.sh (Python standard library only).

GET /fast answers at once; GET /slow sleeps 200 ms first. Both send a small
JSON body over HTTP/1.1 keep-alive, so clients can reuse connections. The
server binds 127.0.0.1 on a free port, writes the port to the file named by
its first argument, and serves until killed.
"""

import http.server
import sys
import time

BODY = b'{"status": "ok", "uptime": 12345.5}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without this, Nagle's algorithm
    # and delayed ACKs add 40 ms to every request on a reused connection.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(0.2)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
