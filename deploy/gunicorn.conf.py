"""gunicorn settings for ``participate serve --production``; every value can be overridden from the environment.

Web processes are stateless: sessions and participant identities live in signed cookies, votes and snapshots in the
database, the analysis queue in Redis. Run as many machines of these as the load needs, behind a load balancer.
"""

import multiprocessing
import os

from participate.logs import config_dict

wsgi_app = "participate:create_app()"
bind = os.environ.get("PARTICIPATE_BIND", "127.0.0.1:8000")
# One process per core uses the cores; threads overlap the database and Redis round trips. bench/load.py measured
# 2 processes x 16 threads ahead of 3 x 8, 4 x 4 and 2 x 32 on a 2-core machine. Keep threads <= the pool's
# PARTICIPATE_DB_POOL_SIZE + PARTICIPATE_DB_MAX_OVERFLOW.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("PARTICIPATE_THREADS", 16))
worker_class = "gthread"
keepalive = int(os.environ.get("PARTICIPATE_KEEPALIVE", 5))
timeout = int(os.environ.get("PARTICIPATE_TIMEOUT", 30))
graceful_timeout = 20
max_requests = int(os.environ.get("PARTICIPATE_MAX_REQUESTS", 0))  # recycle workers now and then if set
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")  # the load balancer's address(es)
accesslog = "-" if os.environ.get("PARTICIPATE_ACCESS_LOG", "true").lower() in {"1", "true", "yes", "on"} else None
# No client address, query string or path token in the access log (participate/access_log.py): addresses are kept
# only hashed (privacy), and query strings carry XIDs, signatures, invite codes and report keys.
logger_class = "participate.access_log.AccessLogger"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
logconfig_dict = config_dict(
    json_lines=os.environ.get("PARTICIPATE_LOG_JSON", "true").lower() in {"1", "true", "yes", "on"},
    level=os.environ.get("PARTICIPATE_LOG_LEVEL", "INFO"),
)
