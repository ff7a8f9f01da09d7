"""rehearsal.db_away: the database stopped for 60 s under load through
the ALB. The worker tasks stay up (none replaced, container health stays
HEALTHY: the health check is liveness), requests meanwhile answer 503
with Retry-After, and everything succeeds again within 5 s of the
database's return."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from scenario import ScenarioCase  # noqa: E402

AWAY_S = 60
RECOVER_S = 5


class DbAway(ScenarioCase):
    scenario = "db_away"

    def test_database_away_60s(self):
        r = self.rehearsal()
        r.deploy()
        tasks = {n: {t.id for t in s.active()}
                 for n, s in r.cluster.services.items()}
        ld = self.load(prefix="dbaway")
        api = ld.stack
        time.sleep(5)
        t_stop = time.monotonic()
        r.rds.stop()
        r.log("rds: stopped")
        time.sleep(AWAY_S)
        r.rds.start()
        t_back = time.monotonic()
        r.log("rds: started again (accepting connections)")
        time.sleep(3 * RECOVER_S)
        self.stop_load(ld)
        for n, s in r.cluster.services.items():
            self.assertEqual({t.id for t in s.active()}, tasks[n],
                             "%s: tasks replaced" % n)
        text = "\n".join(m for _, m in r.events)
        self.assertNotIn("UNHEALTHY", text)
        self.assertNotIn("stopping", text[text.index("load: 4 threads"):])
        bad = client.failures(ld)
        early = [x for x in bad if x["t"] < t_stop]
        late = [x for x in bad if x["t"] > t_back + RECOVER_S]
        self.assertEqual((early, late), ([], []),
                         "failures outside the outage + %d s" % RECOVER_S)
        self.assertTrue(bad, "no request failed while the database was away")
        self.assertEqual({x["status"] for x in bad}, {503},
                         client.describe(bad))
        unavailable = [x for x in api.trace if x[1] == 503]
        self.assertTrue(all(ra for _, _, ra in unavailable),
                        "a 503 without Retry-After")
        recovered = max(x["t"] for x in bad) - t_back
        r.log("db_away: %d requests answered 503 + Retry-After; last failure "
              "%.2f s after the database returned" % (len(bad), recovered))
        self.assertLessEqual(recovered, RECOVER_S)


if __name__ == "__main__":
    unittest.main(verbosity=2)
