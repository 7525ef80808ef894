"""The shipped systemd unit stays sandboxed: systemd-analyze rates its exposure at most 2.0."""
import re
import shutil
import subprocess
import unittest


class SystemdUnit(unittest.TestCase):
    def test_exposure_is_at_most_2(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed (Debian package systemd)")
        result = subprocess.run(["systemd-analyze", "security", "--offline=true", "systemd/magpie.service"],
                                capture_output=True, text=True, timeout=60)
        match = re.search(r"Overall exposure level for magpie.service: ([0-9.]+)", result.stdout + result.stderr)
        self.assertIsNotNone(match, result.stdout + result.stderr)
        self.assertLessEqual(float(match.group(1)), 2.0, result.stdout)
        unit = open("systemd/magpie.service").read()
        self.assertIn("UMask=0027", unit)


if __name__ == "__main__":
    unittest.main()
