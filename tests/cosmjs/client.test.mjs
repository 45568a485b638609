// Unmodified CosmJS (@cosmjs/stargate, @cosmjs/proto-signing, @cosmjs/tendermint-rpc) against a
// real `caspurd dev` node: every assertion checks values the chain must have produced.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import {
  BroadcastTxError,
  GasPrice,
  QueryClient,
  setupDistributionExtension,
  setupGovExtension,
  setupStakingExtension,
  SigningStargateClient,
  StargateClient,
  calculateFee,
} from "@cosmjs/stargate";
import { Comet38Client, WebsocketClient } from "@cosmjs/tendermint-rpc";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { ProposalStatus, TextProposal, VoteOption } from "cosmjs-types/cosmos/gov/v1beta1/gov";
import {
  GetBlockByHeightRequest,
  GetBlockByHeightResponse,
  GetNodeInfoResponse,
} from "cosmjs-types/cosmos/base/tendermint/v1beta1/query";
import { CHAIN_ID, DENOM, MNEMONIC, startDevNode } from "./devnode.mjs";

const FEE = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };

let node;
let client;
let signer;
let wallet;
let dev;
let other;

async function balance(address) {
  return BigInt((await client.getBalance(address, DENOM)).amount);
}

before(async () => {
  node = await startDevNode();
  wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "caspur" });
  [dev] = await wallet.getAccounts();
  const fresh = await DirectSecp256k1HdWallet.generate(12, { prefix: "caspur" });
  [other] = await fresh.getAccounts();
  client = await StargateClient.connect(node.rpc);
  signer = await SigningStargateClient.connectWithSigner(node.rpc, wallet, {
    gasPrice: GasPrice.fromString(`0.025${DENOM}`),
  });
});

after(() => {
  client?.disconnect();
  signer?.disconnect();
  node?.stop();
});

describe("queries", () => {
  it("reports the chain id and a growing height", async () => {
    assert.equal(await client.getChainId(), CHAIN_ID);
    const h1 = await client.getHeight();
    assert.ok(h1 >= 1);
    await new Promise((r) => setTimeout(r, 700));
    assert.ok((await client.getHeight()) > h1);
  });

  it("finds the funded account and not an unknown one", async () => {
    const account = await client.getAccount(dev.address);
    assert.equal(account.address, dev.address);
    assert.ok(BigInt(account.accountNumber) >= 0n);
    assert.ok(account.pubkey === null || account.pubkey.type === "tendermint/PubKeySecp256k1");
    assert.equal(await client.getAccount(other.address), null);
  });

  it("reads balances, zero for an empty account", async () => {
    assert.ok((await balance(dev.address)) > 1_000_000n);
    assert.deepEqual(await client.getBalance(other.address, DENOM), { denom: DENOM, amount: "0" });
    const all = await client.getAllBalances(dev.address);
    assert.ok(all.some((c) => c.denom === DENOM && BigInt(c.amount) > 0n));
    assert.deepEqual(await client.getAllBalances(other.address), []);
  });

  it("returns blocks with their height and chain id", async () => {
    const latest = await client.getBlock();
    assert.equal(latest.header.chainId, CHAIN_ID);
    assert.ok(latest.header.height >= 1);
    const first = await client.getBlock(1);
    assert.equal(first.header.height, 1);
    assert.match(first.id, /^[0-9A-F]{64}$/);
  });

  it("lists the validator set by height, the node's own key in it", async () => {
    const comet = await Comet38Client.connect(node.rpc);
    const status = await comet.status();
    const all = await comet.validatorsAll(1);
    assert.equal(all.blockHeight, 1);
    assert.equal(all.total, 1);
    assert.equal(all.validators.length, 1);
    const [v] = all.validators;
    assert.equal(v.pubkey.algorithm, "ed25519");
    assert.deepEqual(v.address, status.validatorInfo.address);
    assert.equal(v.votingPower, status.validatorInfo.votingPower);
    assert.ok(v.votingPower > 0n);
    const latest = await comet.validators({});
    assert.ok(latest.blockHeight >= 1);
    await assert.rejects(comet.validators({ height: 10_000_000 }), /current blockchain height/);
    comet.disconnect();
  });
});

describe("transactions", () => {
  it("sends with a fixed fee, then finds the tx by hash, sender and height", async () => {
    const before = await balance(other.address);
    const result = await signer.sendTokens(dev.address, other.address, [{ denom: DENOM, amount: "1234" }], FEE, "fixed");
    assert.equal(result.code, 0, result.rawLog);
    assert.equal((await balance(other.address)) - before, 1234n);
    const tx = await client.getTx(result.transactionHash);
    assert.equal(tx.hash, result.transactionHash);
    assert.equal(tx.height, result.height);
    assert.equal(tx.code, 0);
    // The tx's data is TxMsgData: one response per message.
    assert.deepEqual(result.msgResponses.map((r) => r.typeUrl), ["/cosmos.bank.v1beta1.MsgSendResponse"]);
    assert.deepEqual(tx.msgResponses.map((r) => r.typeUrl), ["/cosmos.bank.v1beta1.MsgSendResponse"]);
    // SDK-style ante events: fee, signer sequence, and the signature itself.
    const attrs = (type, key) =>
      tx.events.filter((e) => e.type === type).flatMap((e) => e.attributes.filter((a) => a.key === key).map((a) => a.value));
    const raw = TxRaw.decode(tx.tx);
    assert.deepEqual(attrs("tx", "signature"), [Buffer.from(raw.signatures[0]).toString("base64")]);
    assert.deepEqual(attrs("tx", "fee"), ["5000ucsp"]);
    assert.equal(attrs("tx", "acc_seq").length, 1);
    assert.match(attrs("tx", "acc_seq")[0], new RegExp(`^${dev.address}/\\d+$`));
    // The same block through the tendermint base service over abci_query.
    const cometForQuery = await Comet38Client.connect(node.rpc);
    const queried = await cometForQuery.abciQuery({
      path: "/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight",
      data: GetBlockByHeightRequest.encode({ height: BigInt(result.height) }).finish(),
    });
    assert.equal(queried.code, 0);
    const byHeight1 = GetBlockByHeightResponse.decode(queried.value);
    assert.equal(byHeight1.block.header.chainId, CHAIN_ID);
    assert.equal(Number(byHeight1.block.header.height), result.height);
    assert.equal(byHeight1.block.data.txs.length, (await client.getBlock(result.height)).txs.length);
    const nodeInfo = await cometForQuery.abciQuery({ path: "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo", data: new Uint8Array() });
    assert.equal(GetNodeInfoResponse.decode(nodeInfo.value).defaultNodeInfo.network, CHAIN_ID);
    cometForQuery.disconnect();
    const comet = await Comet38Client.connect(node.rpc);
    const results = await comet.blockResults(result.height);
    assert.equal(results.height, result.height);
    assert.ok(results.results.some((r) => r.code === 0 && r.events.some((e) => e.type === "transfer")));
    const info = await comet.abciInfo();
    assert.ok(info.lastBlockHeight >= result.height);
    assert.equal(info.lastBlockAppHash.length, 32);
    comet.disconnect();
    const bySender = await client.searchTx(`message.sender='${dev.address}'`);
    assert.ok(bySender.some((t) => t.hash === result.transactionHash));
    const byHeight = await client.searchTx(`tx.height=${result.height}`);
    assert.ok(byHeight.some((t) => t.hash === result.transactionHash));
    assert.ok(byHeight.every((t) => t.height === result.height));
    // The whole query language: ranges, CONTAINS, EXISTS; and blocks by height.
    const ranged = await client.searchTx(`tx.height>=${result.height} AND tx.height<=${result.height} AND transfer.amount CONTAINS '1234'`);
    assert.deepEqual(ranged.map((t) => t.hash), [result.transactionHash]);
    const withFee = await client.searchTx(`tx.fee EXISTS AND tx.height<${result.height + 1}`);
    assert.ok(withFee.some((t) => t.hash === result.transactionHash));
    const searcher = await Comet38Client.connect(node.rpc);
    const blocks = await searcher.blockSearchAll({ query: `block.height >= ${result.height - 1} AND block.height <= ${result.height}` });
    assert.equal(blocks.totalCount, 2);
    assert.deepEqual(blocks.blocks.map((b) => b.block.header.height).sort(), [result.height - 1, result.height]);
    // Explorers' methods, decoded by CosmJS's own Comet38 decoders (it has no `header`).
    const chain = await searcher.blockchain(result.height - 1, result.height);
    assert.deepEqual(chain.blockMetas.map((m) => m.header.height), [result.height, result.height - 1]);
    assert.ok(chain.lastHeight >= result.height);
    const genesis = await searcher.genesis();
    assert.equal(genesis.chainId, CHAIN_ID);
    assert.equal(genesis.validators.length, 1);
    assert.ok(genesis.consensusParams.block.maxBytes > 0);
    const pending = await searcher.numUnconfirmedTxs();
    assert.ok(pending.total >= 0 && pending.totalBytes >= 0);
    // `commit`: the header with its real commitments, and the certificate the next block
    // carries (the dev validator's signature), decoded by CosmJS.
    const commit = await searcher.commit(result.height - 1);
    assert.equal(commit.canonical, true);
    const header = commit.header;
    assert.equal(header.height, result.height - 1);
    assert.equal(header.validatorsHash.length, 32);
    assert.notDeepEqual(Buffer.from(header.validatorsHash), Buffer.from(header.evidenceHash));
    assert.deepEqual(header.validatorsHash, header.nextValidatorsHash);
    assert.equal(commit.commit.signatures.length, 1);
    assert.equal(commit.commit.signatures[0].signature.length, 64);
    assert.equal(commit.commit.signatures[0].blockIdFlag, 2);
    const latest = await searcher.commit();
    assert.equal(latest.canonical, false);
    searcher.disconnect();
  });

  it("sends with an auto fee from a simulation", async () => {
    const gas = await signer.simulate(
      dev.address,
      [{ typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: dev.address, toAddress: other.address, amount: [{ denom: DENOM, amount: "1" }] } }],
      "",
    );
    assert.ok(gas > 10_000 && gas < 200_000, `simulated gas ${gas}`);
    const result = await signer.sendTokens(dev.address, other.address, [{ denom: DENOM, amount: "10" }], "auto");
    assert.equal(result.code, 0, result.rawLog);
    assert.ok(result.gasUsed > 0n || result.gasUsed > 0);
  });

  it("commits a burst of 20 txs with consecutive sequences", async () => {
    const { accountNumber, sequence } = await client.getSequence(dev.address);
    const before = await balance(other.address);
    const hashes = [];
    for (let i = 0; i < 20; i++) {
      const msg = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: dev.address, toAddress: other.address, amount: [{ denom: DENOM, amount: "1" }] } };
      const signed = await signer.sign(dev.address, [msg], FEE, `burst ${i}`, {
        accountNumber,
        sequence: sequence + i,
        chainId: CHAIN_ID,
      });
      hashes.push(await signer.broadcastTxSync(TxRaw.encode(signed).finish()));
    }
    assert.equal(new Set(hashes).size, 20);
    const deadline = Date.now() + 30_000;
    for (const hash of hashes) {
      let tx = null;
      while (!tx) {
        assert.ok(Date.now() < deadline, `tx ${hash} not committed`);
        tx = await client.getTx(hash);
        if (!tx) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(tx.code, 0);
    }
    assert.equal((await balance(other.address)) - before, 20n);
    assert.equal((await client.getSequence(dev.address)).sequence, sequence + 20);
  });

  it("surfaces CheckTx rejections as BroadcastTxError with our code", async () => {
    const all = await balance(dev.address);
    const fee = { amount: [{ denom: DENOM, amount: (all + 1n).toString() }], gas: "200000" };
    await assert.rejects(
      signer.sendTokens(dev.address, other.address, [{ denom: DENOM, amount: "1" }], fee),
      (err) => {
        assert.ok(err instanceof BroadcastTxError, String(err));
        assert.equal(err.code, 5);
        assert.equal(err.codespace, "sdk");
        assert.match(err.log, /insufficient funds/);
        return true;
      },
    );
  });

  it("reports a failing simulation as an error", async () => {
    const huge = ((await balance(dev.address)) * 2n).toString();
    await assert.rejects(
      signer.simulate(
        dev.address,
        [{ typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: dev.address, toAddress: other.address, amount: [{ denom: DENOM, amount: huge }] } }],
        "",
      ),
      /insufficient funds/,
    );
  });
});

describe("staking", () => {
  it("delegates, reads the delegation, and undelegates into an unbonding entry", async () => {
    const queries = QueryClient.withExtensions(await Comet38Client.connect(node.rpc), setupStakingExtension);
    const { validators } = await queries.staking.validators("BOND_STATUS_BONDED");
    assert.equal(validators.length, 1);
    const [validator] = validators;
    assert.match(validator.operatorAddress, /^caspurvaloper1/);
    assert.equal(validator.description.moniker, "dev");
    const before = BigInt(validator.tokens);
    const result = await signer.delegateTokens(dev.address, validator.operatorAddress, { denom: DENOM, amount: "3000000" }, "auto");
    assert.equal(result.code, 0, result.rawLog);
    const delegation = await client.getDelegation(dev.address, validator.operatorAddress);
    assert.equal(BigInt(delegation.amount), before + 3_000_000n);
    const after = await queries.staking.validator(validator.operatorAddress);
    assert.equal(BigInt(after.validator.tokens), before + 3_000_000n);
    const pool = await queries.staking.pool();
    assert.ok(BigInt(pool.pool.bondedTokens) >= before + 3_000_000n);
    const undelegated = await signer.undelegateTokens(dev.address, validator.operatorAddress, { denom: DENOM, amount: "1000000" }, "auto");
    assert.equal(undelegated.code, 0, undelegated.rawLog);
    const unbonding = await queries.staking.unbondingDelegation(dev.address, validator.operatorAddress);
    assert.equal(unbonding.unbond.entries.length, 1);
    assert.equal(unbonding.unbond.entries[0].balance, "1000000");
    assert.equal(BigInt((await client.getDelegation(dev.address, validator.operatorAddress)).amount), before + 2_000_000n);
    const params = await queries.staking.params();
    assert.equal(params.params.bondDenom, DENOM);
    assert.equal(Number(params.params.unbondingTime.seconds), 21 * 24 * 3600);
  });
});

describe("governance and rewards", () => {
  it("submits, lists and votes on a proposal through CosmJS's gov helpers", async () => {
    const comet = await Comet38Client.connect(node.rpc);
    const queries = QueryClient.withExtensions(comet, setupGovExtension, setupDistributionExtension, setupStakingExtension);
    const submit = {
      typeUrl: "/cosmos.gov.v1.MsgSubmitProposal",
      value: {
        messages: [],
        initialDeposit: [{ denom: DENOM, amount: "10000000" }],
        proposer: dev.address,
        metadata: "",
        title: "Signal",
        summary: "A text proposal from CosmJS",
        expedited: false,
      },
    };
    const submitted = await signer.signAndBroadcast(dev.address, [submit], "auto");
    assert.equal(submitted.code, 0, submitted.rawLog);
    const { proposals } = await queries.gov.proposals(ProposalStatus.PROPOSAL_STATUS_VOTING_PERIOD, "", "");
    const mine = proposals.find((p) => p.content.typeUrl === "/cosmos.gov.v1beta1.TextProposal");
    assert.ok(mine, "the proposal is listed in v1beta1 form");
    const id = mine.proposalId;
    assert.equal(TextProposal.decode(mine.content.value).title, "Signal");
    const vote = {
      typeUrl: "/cosmos.gov.v1beta1.MsgVote",
      value: { proposalId: id, voter: dev.address, option: VoteOption.VOTE_OPTION_YES },
    };
    const voted = await signer.signAndBroadcast(dev.address, [vote], "auto");
    assert.equal(voted.code, 0, voted.rawLog);
    const stored = await queries.gov.vote(id, dev.address);
    assert.equal(stored.vote.options[0].option, VoteOption.VOTE_OPTION_YES);
    const tally = await queries.gov.tally(id);
    assert.ok(BigInt(tally.tally.yes) > 0n);
    const voting = await queries.gov.params("voting");
    assert.equal(Number(voting.votingParams.votingPeriod.seconds), 2 * 24 * 3600);
    const deposits = await queries.gov.deposits(id);
    assert.equal(deposits.deposits[0].amount[0].amount, "10000000");

    // Fees of these txs became rewards: withdraw them through CosmJS.
    const { validators } = await queries.staking.validators("BOND_STATUS_BONDED");
    const total = await queries.distribution.delegationTotalRewards(dev.address);
    assert.equal(total.rewards[0].validatorAddress, validators[0].operatorAddress);
    assert.ok(total.total.length === 1 && total.total[0].denom === DENOM);
    const pool = await queries.distribution.communityPool();
    assert.equal(pool.pool[0].denom, DENOM);
    const withdrawn = await signer.withdrawRewards(dev.address, validators[0].operatorAddress, "auto");
    assert.equal(withdrawn.code, 0, withdrawn.rawLog);
    assert.ok(withdrawn.events.some((e) => e.type === "withdraw_rewards"));
    comet.disconnect();
  });
});

describe("browsers", () => {
  it("answers CORS preflights and requests from any origin", async () => {
    const preflight = await fetch(node.rpc, {
      method: "OPTIONS",
      headers: {
        origin: "https://dapp.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    assert.match(preflight.headers.get("access-control-allow-methods"), /POST/);
    const res = await fetch(node.rpc, {
      method: "POST",
      headers: { origin: "https://dapp.example", "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "health", params: {} }),
    });
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.deepEqual((await res.json()).result, {});
  });
});

describe("bad requests", () => {
  const post = (body) =>
    fetch(node.rpc, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("answers malformed JSON, unknown methods and wrong params with JSON-RPC errors", async () => {
    const malformed = await post("{not json");
    assert.equal(malformed.status, 200);
    assert.equal((await malformed.json()).error.code, -32700);
    const unknown = await (await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "nope", params: {} }))).json();
    assert.equal(unknown.error.code, -32601);
    assert.equal(unknown.id, 2);
    const wrong = await (await post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "block", params: { height: "abc" } }))).json();
    assert.equal(wrong.error.code, -32602);
  });

  it("refuses a huge body and keeps serving", async () => {
    // The node answers 413 as soon as the body passes the limit and closes the connection; a
    // client still uploading may see that as a reset instead. Either is a refusal.
    const huge = await post(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "health", params: { pad: "x".repeat(5 << 20) } }))
      .then((r) => r.status)
      .catch((e) => e.cause?.code ?? e.message);
    assert.ok(huge === 413 || /ECONNRESET|EPIPE|other side closed|socket/i.test(String(huge)), `unexpected outcome ${huge}`);
    const ok = await (await post(JSON.stringify({ jsonrpc: "2.0", id: 5, method: "health", params: {} }))).json();
    assert.deepEqual(ok.result, {});
  });
});

describe("websocket", () => {
  it("streams new blocks", async () => {
    const ws = new WebsocketClient(node.ws);
    const comet = Comet38Client.create(ws);
    const heights = await new Promise((ok, fail) => {
      const seen = [];
      const sub = comet.subscribeNewBlock().subscribe({
        next: (event) => {
          seen.push(event.header.height);
          if (seen.length === 2) {
            sub.unsubscribe();
            ok(seen);
          }
        },
        error: fail,
      });
      setTimeout(() => fail(new Error("no blocks streamed")), 20_000);
    });
    comet.disconnect();
    assert.equal(heights[1], heights[0] + 1);
  });
});

describe("websocket txs", () => {
  it("streams the txs matching an event query", async () => {
    const ws = new WebsocketClient(node.ws);
    const comet = Comet38Client.create(ws);
    const seen = new Promise((ok, fail) => {
      const sub = comet.subscribeTx(`message.sender='${dev.address}'`).subscribe({
        next: (event) => {
          sub.unsubscribe();
          ok(event);
        },
        error: fail,
      });
      setTimeout(() => fail(new Error("no tx streamed")), 20_000);
    });
    await new Promise((r) => setTimeout(r, 300));
    const result = await signer.sendTokens(dev.address, other.address, [{ denom: DENOM, amount: "7" }], FEE);
    const event = await seen;
    comet.disconnect();
    assert.equal(Buffer.from(event.hash).toString("hex").toUpperCase(), result.transactionHash);
    assert.equal(event.height, result.height);
    assert.equal(event.result.code, 0);
  });
});

// calculateFee is what "auto" uses with our gas price; keep the import exercised.
assert.equal(calculateFee(100_000, GasPrice.fromString(`0.025${DENOM}`)).amount[0].amount, "2500");
