"""The independent CAPF client's parts; tests/e2e/capf_interop_client.py is the command.

Written from module/capf/PROTOCOL.md only, sharing no code with the C++ phone simulator."""
