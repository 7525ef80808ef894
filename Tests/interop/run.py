"""Runs the interoperability tests and ends with the ten slowest and a plain 'N passed, N failed' line."""
import os
import sys
import time
import unittest


class TimedResult(unittest.TextTestResult):
    """Keeps each test's wall time, so the test command's length stays in view."""

    def startTest(self, test):
        self.started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.times = getattr(self, "times", []) + [(time.monotonic() - self.started, test.id())]


suite = unittest.defaultTestLoader.discover(os.path.dirname(os.path.abspath(__file__)), pattern="test_*.py")
result = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult).run(suite)
print("slowest:")
for seconds, name in sorted(getattr(result, "times", []), reverse=True)[:10]:
    print(f"  {seconds:6.1f} s  {name}")
failed = len(result.failures) + len(result.errors)
skipped = len(result.skipped)
print(f"interop: {result.testsRun - failed - skipped} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if result.wasSuccessful() else 1)
