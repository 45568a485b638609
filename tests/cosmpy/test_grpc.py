"""cosmpy (from PyPI, unmodified) against a `caspurd dev` node over Cosmos gRPC.

Run by scripts/test.sh inside a virtualenv: `CASPURD=target/debug/caspurd python -m unittest`.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import grpc
from cosmpy.aerial.client import LedgerClient, NetworkConfig
from cosmpy.aerial.client.bank import create_bank_send_msg
from cosmpy.aerial.client.utils import prepare_basic_transaction
from cosmpy.aerial.tx import Transaction
from cosmpy.aerial.exceptions import NotFoundError
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.protos.cosmos.bank.v1beta1.query_pb2 import QueryBalanceRequest
from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin
from cosmpy.protos.cosmos.base.tendermint.v1beta1.query_pb2 import (
    GetValidatorSetByHeightRequest,
)
from cosmpy.protos.cosmos.bank.v1beta1.query_pb2_grpc import QueryStub as BankStub
from cosmpy.protos.cosmos.staking.v1beta1.query_pb2 import QueryDelegatorDelegationsRequest
from cosmpy.protos.cosmos.tx.v1beta1.service_pb2 import BroadcastTxRequest, SimulateRequest

# CosmJS's faucet mnemonic: the dev chain funds its first account.
MNEMONIC = (
    "economy stock theory fatal elder harbor betray wasp final emotion task crumble "
    "siren bottom lizard educate guess current outdoor pair theory focus wife stone"
)
DEV_ADDRESS = "caspur1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm7hng47"
DEV_FUNDS = 1_000_000_000_000_000
CHAIN_ID = "caspur-dev-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevNode:
    """A `caspurd dev` process on free loopback ports, killed by PID when the suite ends."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="caspur-cosmpy-")
        self.grpc_port = free_port()
        self.log_path = os.path.join(self.dir, "node.log")
        binary = os.environ.get("CASPURD", "target/debug/caspurd")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    binary, "dev",
                    "--home", os.path.join(self.dir, "node"),
                    "--dev-mnemonic", MNEMONIC,
                    "--block-time-ms", "200",
                    "--rpc-laddr", f"127.0.0.1:{free_port()}",
                    "--p2p-laddr", f"127.0.0.1:{free_port()}",
                    "--grpc-laddr", f"127.0.0.1:{self.grpc_port}",
                ],
                stdout=log,
                stderr=log,
            )

    def log(self) -> str:
        with open(self.log_path, encoding="utf8", errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class CosmpyOverGrpc(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = DevNode()
        cfg = NetworkConfig(
            chain_id=CHAIN_ID,
            url=f"grpc+http://127.0.0.1:{cls.node.grpc_port}",
            fee_minimum_gas_price=0.0025,
            fee_denomination="ucsp",
            staking_denomination="ucsp",
        )
        cls.client = LedgerClient(cfg, query_interval_secs=0.2, query_timeout_secs=30)
        deadline = time.time() + 60
        while True:
            try:
                if cls.client.query_height() >= 1:
                    break
            except grpc.RpcError:
                pass  # not listening or no block yet
            if time.time() > deadline or cls.node.proc.poll() is not None:
                log = cls.node.log()
                cls.node.stop()
                raise RuntimeError(f"caspurd dev did not start:\n{log}")
            time.sleep(0.2)
        cls.wallet = LocalWallet.from_mnemonic(MNEMONIC, prefix="caspur")

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def test_1_chain_and_node_facts(self):
        block = self.client.query_latest_block()
        self.assertEqual(block.chain_id, CHAIN_ID)
        self.assertGreaterEqual(block.height, 1)
        self.assertEqual(self.client.query_chain_id(), CHAIN_ID)
        info = self.client.query_node_info()
        self.assertEqual(info.app_name, "caspur")
        params = self.client.query_consensus_params()
        self.assertEqual(params.params.block.max_bytes, 4 << 20)
        self.assertEqual(params.params.validator.pub_key_types, ["ed25519"])
        earlier = self.client.query_block(1)
        self.assertEqual(earlier.height, 1)
        validators = self.client.tendermint.GetValidatorSetByHeight(
            GetValidatorSetByHeightRequest(height=1)
        )
        self.assertEqual(validators.block_height, 1)
        self.assertEqual(len(validators.validators), 1)
        self.assertTrue(validators.validators[0].address.startswith("caspurvalcons1"))
        self.assertEqual(
            validators.validators[0].pub_key.type_url, "/cosmos.crypto.ed25519.PubKey"
        )
        self.assertGreater(validators.validators[0].voting_power, 0)

    def test_2_balances(self):
        self.assertEqual(str(self.wallet.address()), DEV_ADDRESS)
        self.assertGreater(self.client.query_bank_balance(self.wallet.address()), 0)
        stranger = LocalWallet.generate(prefix="caspur")
        self.assertEqual(self.client.query_bank_balance(stranger.address()), 0)
        self.assertEqual(self.client.query_bank_all_balances(stranger.address()), [])
        account = self.client.query_account(self.wallet.address())
        self.assertEqual(str(account.address), DEV_ADDRESS)

    def test_3_send_and_wait(self):
        recipient = LocalWallet.generate(prefix="caspur")
        before = self.client.query_bank_balance(self.wallet.address())
        # No fee given: cosmpy simulates (the deprecated `tx` field) to size gas and fee.
        submitted = self.client.send_tokens(recipient.address(), 12345, "ucsp", self.wallet)
        submitted.wait_to_complete()
        response = submitted.response
        self.assertEqual(response.code, 0)
        self.assertGreater(response.height, 0)
        self.assertGreater(response.gas_used, 0)
        self.assertGreaterEqual(response.gas_wanted, response.gas_used)
        self.assertEqual(response.hash, submitted.tx_hash)
        self.assertEqual(response.events["transfer"]["recipient"], str(recipient.address()))
        self.assertEqual(response.events["transfer"]["amount"], "12345ucsp")
        self.assertEqual(response.events["message"]["sender"], DEV_ADDRESS)
        self.assertEqual(self.client.query_bank_balance(recipient.address()), 12345)
        fee = int(response.events["tx"]["fee"].removesuffix("ucsp"))
        self.assertGreater(fee, 0)
        self.assertEqual(
            self.client.query_bank_balance(self.wallet.address()), before - 12345 - fee
        )
        # The committed tx is found by hash; the block lists it.
        self.assertEqual(self.client.query_tx(submitted.tx_hash).height, response.height)
        self.assertIn(submitted.tx_hash, self.client.query_block(response.height).tx_hashes)

    def test_3b_simulate_both_request_fields(self):
        # The same signed tx simulated through `tx_bytes` and the deprecated `tx` field.
        tx = Transaction()
        tx.add_message(
            create_bank_send_msg(self.wallet.address(), self.wallet.address(), 1, "ucsp")
        )
        tx = prepare_basic_transaction(self.client, tx, self.wallet)
        by_bytes = self.client.txs.Simulate(SimulateRequest(tx_bytes=tx.tx.SerializeToString()))
        by_tx = self.client.txs.Simulate(SimulateRequest(tx=tx.tx))
        self.assertGreater(by_bytes.gas_info.gas_used, 0)
        self.assertEqual(by_bytes.gas_info.gas_used, by_tx.gas_info.gas_used)

    def test_4_errors(self):
        with self.assertRaises(NotFoundError):
            self.client.query_tx("AB" * 32)
        # A sender the chain has never seen: the account lookup answers NOT_FOUND.
        broke = LocalWallet.generate(prefix="caspur")
        with self.assertRaises(grpc.RpcError) as failed:
            self.client.send_tokens(self.wallet.address(), 1, "ucsp", broke)
        self.assertEqual(failed.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("not found", failed.exception.details())
        # A service Caspur does not have answers UNIMPLEMENTED.
        channel = grpc.insecure_channel(f"127.0.0.1:{self.node.grpc_port}")
        with self.assertRaises(grpc.RpcError) as missing:
            channel.unary_unary("/caspur.nothing.v1.Query/Nothing")(b"")
        self.assertEqual(missing.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        channel.close()
        # Garbage tx bytes: CheckTx refuses them with a decode error code.
        response = self.client.txs.BroadcastTx(
            BroadcastTxRequest(tx_bytes=b"\x01\x02garbage", mode=2)
        )
        self.assertEqual(response.tx_response.code, 2)
        # A query pinned to a height the node no longer serves is refused, not misanswered.
        channel = grpc.insecure_channel(f"127.0.0.1:{self.node.grpc_port}")
        with self.assertRaises(grpc.RpcError) as pinned:
            BankStub(channel).Balance(
                QueryBalanceRequest(address=DEV_ADDRESS, denom="ucsp"),
                metadata=[("x-cosmos-block-height", "1")],
            )
        self.assertEqual(pinned.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        answered = BankStub(channel).Balance.with_call(
            QueryBalanceRequest(address=DEV_ADDRESS, denom="ucsp")
        )
        heights = [v for k, v in answered[1].initial_metadata() if k == "x-cosmos-block-height"]
        self.assertEqual(len(heights), 1)
        self.assertGreaterEqual(int(heights[0]), 1)
        channel.close()


    def test_5_staking(self):
        validators = self.client.query_validators()
        self.assertEqual(len(validators), 1)
        validator = validators[0]
        self.assertTrue(str(validator.address).startswith("caspurvaloper1"))
        self.assertEqual(validator.moniker, "dev")
        self.assertEqual(validator.tokens, 10_000_000)
        # The dev account operates the validator; it delegates more through cosmpy.
        self.client.delegate_tokens(validator.address, 1_000_000, self.wallet).wait_to_complete()
        after = self.client.query_validators()[0]
        self.assertEqual(after.tokens, 11_000_000)
        delegations = self.client.staking.DelegatorDelegations(
            QueryDelegatorDelegationsRequest(delegator_addr=DEV_ADDRESS)
        )
        self.assertEqual(len(delegations.delegation_responses), 1)
        self.assertEqual(delegations.delegation_responses[0].balance.amount, "11000000")
        # cosmpy's staking summary joins delegations with distribution's pending rewards,
        # which the fees of the txs above have filled.
        summary = self.client.query_staking_summary(self.wallet.address())
        self.assertEqual(len(summary.current_positions), 1)
        self.assertEqual(summary.current_positions[0].amount, 11_000_000)
        self.assertGreater(summary.total_rewards, 0)

    def test_6_dcert_service(self):
        # Caspur's own gRPC service (no generated Python classes: the wire is read by hand).
        channel = grpc.insecure_channel(f"127.0.0.1:{self.node.grpc_port}")
        raw = channel.unary_unary("/caspur.dcert.v1.Query/Params")(b"")
        channel.close()
        params = dict(wire_fields(dict(wire_fields(raw))[1]))
        self.assertEqual(params[2], 7)  # max_members
        self.assertEqual(params[7], 1)  # circuit_break_enabled: on, as on every dev chain
        stipend = Coin.FromString(params[1])
        self.assertEqual((stipend.denom, stipend.amount), ("ucsp", "100000000"))

    def test_7_auth_and_slashing_services(self):
        # The SDK's own query services through cosmpy's generated stubs: auth params and the
        # slashing module (params; the dev validator's signing info by consensus address).
        from cosmpy.protos.cosmos.auth.v1beta1.query_pb2 import QueryParamsRequest as AuthParams
        from cosmpy.protos.cosmos.auth.v1beta1.query_pb2_grpc import QueryStub as AuthStub
        from cosmpy.protos.cosmos.base.tendermint.v1beta1.query_pb2 import (
            GetLatestValidatorSetRequest,
        )
        from cosmpy.protos.cosmos.base.tendermint.v1beta1.query_pb2_grpc import (
            ServiceStub as TendermintStub,
        )
        from cosmpy.protos.cosmos.slashing.v1beta1.query_pb2 import (
            QueryParamsRequest as SlashingParams,
            QuerySigningInfoRequest,
        )
        from cosmpy.protos.cosmos.slashing.v1beta1.query_pb2_grpc import QueryStub as SlashingStub

        channel = grpc.insecure_channel(f"127.0.0.1:{self.node.grpc_port}")
        auth = AuthStub(channel).Params(AuthParams()).params
        self.assertEqual(auth.max_memo_characters, 256)
        slashing = SlashingStub(channel)
        params = slashing.Params(SlashingParams()).params
        self.assertEqual(params.signed_blocks_window, 100)
        self.assertEqual(params.min_signed_per_window, b"500000000000000000")
        self.assertEqual(params.downtime_jail_duration.seconds, 600)
        validators = TendermintStub(channel).GetLatestValidatorSet(GetLatestValidatorSetRequest())
        cons = validators.validators[0].address
        self.assertTrue(cons.startswith("caspurvalcons1"), cons)
        info = slashing.SigningInfo(QuerySigningInfoRequest(cons_address=cons)).val_signing_info
        self.assertEqual(info.address, cons)
        self.assertFalse(info.tombstoned)
        with self.assertRaises(grpc.RpcError) as unknown:
            slashing.SigningInfo(QuerySigningInfoRequest(cons_address="caspurvalcons1xyz"))
        self.assertNotEqual(unknown.exception.code(), grpc.StatusCode.OK)
        channel.close()


def wire_fields(buf):
    """(field number, value) pairs of a protobuf message: varints as ints, the rest as bytes."""
    def varint(at):
        value, shift = 0, 0
        while True:
            byte = buf[at]
            value |= (byte & 0x7F) << shift
            at += 1
            if byte < 0x80:
                return value, at
            shift += 7

    at = 0
    while at < len(buf):
        key, at = varint(at)
        if key & 7 == 0:
            value, at = varint(at)
        elif key & 7 == 2:
            size, at = varint(at)
            value, at = buf[at:at + size], at + size
        else:
            raise ValueError(f"unexpected wire type {key & 7}")
        yield key >> 3, value


if __name__ == "__main__":
    unittest.main()
