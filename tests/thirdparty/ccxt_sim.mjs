// ccxt, the most used third-party client library for both venues, unchanged, against xarb-sim:
// only its base URLs point at the simulator. It loads markets, reads books and balances, and
// places, queries, lists and cancels orders on every venue; balances must move by exactly what
// the fills say. ccxt.pro (the same package) watches Upbit's and Bithumb's private websockets:
// myOrder must push the order's end, myAsset what fetchBalance then reads; and Binance's WebSocket
// API (createOrderWs, watchOrders, watchBalance). Exits non-zero on the first failed check.
//
//   BPORT=.. UPORT=.. HPORT=.. NODE_EXTRA_CA_CERTS=ca.pem node ccxt_sim.mjs
//
// Bithumb (HPORT) runs from ccxt 4.5 on: its `bithumb` class speaks Bithumb's current API (JWT,
// /v1 and /v2) by default. ccxt 4.4's speaks only the retired 1.x API (HMAC `Api-Sign`,
// /public/ticker, /trade/place), which neither xarb nor xarb-sim uses.
import assert from 'node:assert/strict';
import ccxt from 'ccxt';

const bport = process.env.BPORT;
const uport = process.env.UPORT;
const hport = process.env.HPORT;
// Every base URL of the client's API table on the simulator's port.
function pointAt(exchange, port) {
  for (const key of Object.keys(exchange.urls.api)) {
    const url = exchange.urls.api[key];
    if (typeof url === 'string') exchange.urls.api[key] = url.replace(/^https:\/\/[^/]+/, `https://127.0.0.1:${port}`);
  }
  exchange.verbose = !!process.env.VERBOSE;
}
const near = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} != ${b}`);
const step = (text) => console.log(`ok  ${text}`);

// --- Binance (spot; the simulator serves no margin, futures or wallet endpoints) --------------
const binance = new ccxt.binance({
  apiKey: 'sim-binance-key-0000000000000000',
  secret: 'sim-binance-secret-000000000000000',
  options: { defaultType: 'spot', fetchMarkets: ['spot'], fetchMargins: false, fetchCurrencies: false },
});
pointAt(binance, bport);
const markets = await binance.loadMarkets();
assert.ok(markets['BTC/USDT'] && markets['ETH/USDT'], 'binance markets');
assert.equal(markets['BTC/USDT'].precision.price, 0.01, 'BTCUSDT tick from PRICE_FILTER');
assert.ok(markets['BTC/USDT'].limits.amount.min > 0, 'LOT_SIZE');
step(`binance loadMarkets: ${Object.keys(markets).join(', ')}`);
const book = await binance.fetchOrderBook('BTC/USDT', 5);
assert.ok(book.bids.length === 5 && book.asks.length === 5 && book.bids[0][0] < book.asks[0][0], 'binance book');
step(`binance fetchOrderBook: ${book.bids[0][0]} / ${book.asks[0][0]}`);
const b0 = (await binance.fetchBalance()).total;
step(`binance fetchBalance: ${JSON.stringify(b0)}`);

const ioc = await binance.createOrder('BTC/USDT', 'limit', 'buy', 0.001,
  Math.round(book.asks[0][0] * 1.002 * 100) / 100, { timeInForce: 'IOC' });
assert.equal(ioc.status, 'closed');
near(ioc.filled, 0.001, 'IOC filled');
const iocAgain = await binance.fetchOrder(ioc.id, 'BTC/USDT');
assert.equal(iocAgain.status, 'closed');
near(iocAgain.filled, 0.001, 'fetchOrder filled');
step(`binance limit IOC buy: ${ioc.status} ${ioc.filled} at ${ioc.average}, fee ${ioc.fee.cost} ${ioc.fee.currency}`);

const resting = await binance.createOrder('BTC/USDT', 'limit', 'buy', 0.001, Math.round(book.bids[0][0] * 0.9));
assert.equal(resting.status, 'open', 'a GTC limit below the book rests');
const open = await binance.fetchOpenOrders('BTC/USDT');
assert.ok(open.some((o) => o.id === resting.id), 'the resting order is listed');
const canceled = await binance.cancelOrder(resting.id, 'BTC/USDT');
assert.equal(canceled.status, 'canceled');
assert.ok(!(await binance.fetchOpenOrders('BTC/USDT')).some((o) => o.id === resting.id));
step('binance GTC buy rests, is listed by fetchOpenOrders, cancelOrder cancels it');

const market = await binance.createOrder('ETH/USDT', 'market', 'sell', 0.01);
assert.equal(market.status, 'closed');
near(market.filled, 0.01, 'market filled');
step(`binance market sell: ${market.filled} ETH at ${market.average}`);

await assert.rejects(binance.fetchOrder('999999', 'BTC/USDT'), ccxt.OrderNotFound);
await assert.rejects(binance.createOrder('BTC/USDT', 'limit', 'buy', 1000, book.asks[0][0]), ccxt.InsufficientFunds);
step('binance unknown order -> OrderNotFound, too large an order -> InsufficientFunds');

const b1 = (await binance.fetchBalance()).total;
// Binance charges each commission in the asset the trade brought in: the buy's in BTC, the
// sell's in USDT.
const feeIn = (order, asset) => (order.fee && order.fee.currency === asset ? order.fee.cost : 0);
assert.equal(ioc.fee.currency, 'BTC');
assert.equal(market.fee.currency, 'USDT');
near(b1.BTC - b0.BTC, 0.001 - feeIn(ioc, 'BTC'), 'BTC moved by the IOC fill less its commission');
near(b1.ETH - b0.ETH, -0.01, 'ETH moved by the market fill');
near(b1.USDT - b0.USDT, -ioc.cost - feeIn(ioc, 'USDT') + market.cost - feeIn(market, 'USDT'),
     'USDT moved by cost and fees');
step(`binance balances moved by exactly the fills: ${JSON.stringify(b1)}`);

// Binance's WebSocket API (ccxt.pro): createOrderWs places on /ws-api/v3 (signed over the sorted
// parameters), watchOrders and watchBalance hold the user data stream on the same connection
// (userDataStream.subscribe.signature; executionReport, outboundAccountPosition). ccxt versions
// that still ask for a listenKey (ended 2026-02-20) skip it.
const bws = new ccxt.pro.binance({
  apiKey: binance.apiKey,
  secret: binance.secret,
  options: { defaultType: 'spot', fetchMarkets: ['spot'], fetchMargins: false, fetchCurrencies: false },
});
pointAt(bws, bport);
if (typeof bws.ensureUserDataStreamWsSubscribeSignature === 'function' && bws.urls.api.ws['ws-api']) {
  bws.urls.api.ws['ws-api'].spot = `wss://127.0.0.1:${bport}/ws-api/v3`;
  await bws.loadMarkets();
  const watchingOrders = bws.watchOrders('BTC/USDT');
  const watchingBalance = bws.watchBalance();
  const wsBuy = await bws.createOrderWs('BTC/USDT', 'limit', 'buy', 0.001,
    Math.round(book.asks[0][0] * 1.002 * 100) / 100, { timeInForce: 'IOC' });
  assert.equal(wsBuy.status, 'closed', 'createOrderWs: the IOC filled');
  near(wsBuy.filled, 0.001, 'createOrderWs filled');
  let seen = await watchingOrders;
  for (let k = 0; k < 10 && !seen.some((o) => o.id === wsBuy.id && o.status === 'closed'); ++k) {
    seen = await bws.watchOrders('BTC/USDT');
  }
  const wsClosed = seen.find((o) => o.id === wsBuy.id && o.status === 'closed');
  assert.ok(wsClosed, `watchOrders: the buy ends closed (${JSON.stringify(seen.map((o) => [o.id, o.status]))})`);
  near(wsClosed.filled, 0.001, 'watchOrders filled');
  const pushedBalance = await watchingBalance;
  const fetched = (await binance.fetchBalance()).total;
  near(pushedBalance.BTC.free, fetched.BTC, 'watchBalance BTC is what fetchBalance reads');
  near(pushedBalance.USDT.free, fetched.USDT, 'watchBalance USDT is what fetchBalance reads');
  const wsCancel = await bws.createOrderWs('BTC/USDT', 'limit', 'buy', 0.001, Math.round(book.bids[0][0] * 0.9));
  assert.equal(wsCancel.status, 'open');
  const wsCanceled = await bws.cancelOrderWs(wsCancel.id, 'BTC/USDT');
  assert.equal(wsCanceled.status, 'canceled');
  assert.equal((await bws.fetchOrderWs(wsCancel.id, 'BTC/USDT')).status, 'canceled');
  step(`binance createOrderWs: ${wsBuy.status} ${wsBuy.filled}; watchOrders: ${wsClosed.status}; ` +
       `watchBalance = fetchBalance (BTC ${fetched.BTC}, USDT ${fetched.USDT}); cancelOrderWs, fetchOrderWs`);
  await bws.close();
} else {
  step('binance WebSocket API skipped: this ccxt holds the user data stream with a listenKey');
}

// --- Upbit ------------------------------------------------------------------------------------
const upbit = new ccxt.upbit({
  apiKey: 'sim-upbit-access-key-00000000000',
  secret: 'sim-upbit-secret-key-00000000000',
});
pointAt(upbit, uport);
const umarkets = await upbit.loadMarkets();
assert.ok(umarkets['BTC/KRW'] && umarkets['ETH/KRW'], 'upbit markets');
step(`upbit loadMarkets: ${Object.keys(umarkets).join(', ')}`);
const ubook = await upbit.fetchOrderBook('BTC/KRW');
assert.ok(ubook.bids.length > 0 && ubook.bids[0][0] < ubook.asks[0][0], 'upbit book');
step(`upbit fetchOrderBook: ${ubook.bids.length} levels, ${ubook.bids[0][0]} / ${ubook.asks[0][0]}`);
const u0 = (await upbit.fetchBalance()).total;
step(`upbit fetchBalance: ${JSON.stringify(u0)}`);

// Upbit's KRW tick at this price is 1,000: a price off the grid is refused (invalid_price_ask).
const sell = await upbit.createOrder('BTC/KRW', 'limit', 'sell', 0.001, Math.floor(ubook.bids[0][0] * 0.99 / 1000) * 1000);
const sold = await upbit.fetchOrder(sell.id);
assert.equal(sold.status, 'closed');
near(sold.filled, 0.001, 'upbit limit sell filled');
step(`upbit limit sell at the bid: ${sold.status} ${sold.filled} at ${sold.average}`);

const urest = await upbit.createOrder('BTC/KRW', 'limit', 'buy', 0.001, Math.round(ubook.bids[0][0] * 0.9 / 1000) * 1000);
assert.equal(urest.status, 'open');
assert.ok((await upbit.fetchOpenOrders('BTC/KRW')).some((o) => o.id === urest.id));
const ucanceled = await upbit.cancelOrder(urest.id);
assert.equal(ucanceled.id, urest.id);
assert.equal((await upbit.fetchOrder(urest.id)).status, 'canceled');
step('upbit limit buy rests, is listed, cancelOrder cancels it');

await assert.rejects(upbit.fetchOrder('00000000-0000-4000-8000-000000000000'), ccxt.OrderNotFound);
await assert.rejects(upbit.createOrder('BTC/KRW', 'limit', 'sell', 0.001, ubook.bids[0][0] + 1), ccxt.ExchangeError);
step('upbit unknown order -> OrderNotFound, a price off the tick -> refused');

const u1 = (await upbit.fetchBalance()).total;
near(u1.BTC - u0.BTC, -0.001, 'upbit BTC moved by the sell');
assert.ok(u1.KRW > u0.KRW, 'upbit KRW grew by the proceeds');
step(`upbit balances moved by the fill: ${JSON.stringify(u1)}`);

// Upbit's private websocket (ccxt.pro, the same package): the JWT goes in the upgrade's
// Authorization header; myOrder pushes the order's executions and its end, myAsset the balances.
// One instance per subscription: a new request on a connection replaces the one before.
const upbitWs = (extra = {}) => {
  const x = new ccxt.pro.upbit({ apiKey: upbit.apiKey, secret: upbit.secret, ...extra });
  pointAt(x, uport);
  x.urls.api.ws = `wss://127.0.0.1:${uport}/websocket/v1`;
  return x;
};
const orderStream = upbitWs();
const assetStream = upbitWs();
await orderStream.loadMarkets();
await assetStream.loadMarkets();
const watchingOrders = orderStream.watchOrders('BTC/KRW');
const watchingAssets = assetStream.watchBalance();
await new Promise((r) => setTimeout(r, 300));  // both subscriptions are in before the order
const wsSell = await upbit.createOrder('BTC/KRW', 'limit', 'sell', 0.001, Math.floor(ubook.bids[0][0] * 0.99 / 1000) * 1000);
let pushed = await watchingOrders;
for (let k = 0; k < 10 && !pushed.some((o) => o.id === wsSell.id && o.status === 'closed'); ++k) {
  pushed = await orderStream.watchOrders('BTC/KRW');
}
const wsDone = pushed.find((o) => o.id === wsSell.id && o.status === 'closed');
assert.ok(wsDone, `watchOrders: the sell ends closed (${JSON.stringify(pushed.map((o) => [o.id, o.status]))})`);
near(wsDone.filled, 0.001, 'watchOrders filled');
const wsBalance = await watchingAssets;
const u2 = (await upbit.fetchBalance()).total;
near(wsBalance.BTC.total, u2.BTC, 'watchBalance BTC is what fetchBalance reads');
near(wsBalance.KRW.total, u2.KRW, 'watchBalance KRW is what fetchBalance reads');
step(`upbit watchOrders: ${wsDone.status} ${wsDone.filled}; watchBalance: BTC ${wsBalance.BTC.total}, KRW ${wsBalance.KRW.total}`);
const refused = upbitWs({ secret: 'not-the-secret-key-0000000000000' });
await refused.loadMarkets();
// The simulator answers INVALID_AUTH and closes; ccxt's upbit class reports the close.
await assert.rejects(refused.watchOrders('BTC/KRW'), ccxt.NetworkError);
step('upbit watchOrders with a wrong secret -> refused, the connection closed');
await Promise.all([orderStream.close(), assetStream.close(), refused.close()]);

// --- Bithumb ----------------------------------------------------------------------------------
const [major, minor] = ccxt.version.split('.').map(Number);
if (!hport) {
  console.log('skip bithumb: no HPORT');
} else if (major < 4 || (major === 4 && minor < 5)) {
  console.log(`skip bithumb: ccxt ${ccxt.version}'s bithumb class speaks only Bithumb's retired 1.x API`);
} else {
  const bithumb = new ccxt.bithumb({
    apiKey: 'sim-bithumb-access-key-000000000',
    secret: 'sim-bithumb-secret-key-000000000',
  });
  pointAt(bithumb, hport);
  const hmarkets = await bithumb.loadMarkets();
  assert.ok(hmarkets['BTC/KRW'] && hmarkets['ETH/KRW'], 'bithumb markets');
  step(`bithumb loadMarkets: ${Object.keys(hmarkets).join(', ')}`);
  const hbook = await bithumb.fetchOrderBook('BTC/KRW');
  assert.ok(hbook.bids.length > 0 && hbook.bids[0][0] < hbook.asks[0][0], 'bithumb book');
  step(`bithumb fetchOrderBook: ${hbook.bids.length} levels, ${hbook.bids[0][0]} / ${hbook.asks[0][0]}`);
  const h0 = (await bithumb.fetchBalance()).total;
  step(`bithumb fetchBalance: ${JSON.stringify(h0)}`);

  // ccxt rounds Bithumb prices to 4 significant digits: at ~86,000,000 KRW a multiple of 10,000,
  // which is on Bithumb's 1,000 KRW tick. An IOC buy above the ask fills at once.
  const grid = 10000;
  const hioc = await bithumb.createOrder('BTC/KRW', 'limit', 'buy', 0.001,
    Math.ceil(hbook.asks[0][0] * 1.002 / grid) * grid, { timeInForce: 'IOC' });
  const hbought = await bithumb.fetchOrder(hioc.id);
  assert.equal(hbought.status, 'closed');
  assert.equal(hbought.id, hioc.id);
  assert.equal(hbought.timeInForce, 'IOC');
  // ccxt 4.5 sums `filled` from trade fields named trade_volume or units, and takes the fee from
  // reserved_fee; Bithumb's order (Upbit's shape) names them volume and paid_fee. So the fill is
  // read from the order's own fields, as ccxt hands them over in `info`.
  const hfilled = Number(hbought.info.executed_volume);
  const hfunds = Number(hbought.info.executed_funds);
  const hfee = Number(hbought.info.paid_fee);
  near(hfilled, 0.001, 'bithumb IOC executed_volume');
  assert.ok(hfunds > 0 && hfee > 0, 'bithumb executed_funds and paid_fee');
  near(hbought.info.trades.reduce((a, t) => a + Number(t.funds), 0), hfunds, 'trades sum to executed_funds');
  step(`bithumb limit IOC buy: ${hbought.status} ${hfilled} for ${hfunds} KRW, fee ${hfee} KRW`);

  const hrest = await bithumb.createOrder('BTC/KRW', 'limit', 'buy', 0.001,
    Math.floor(hbook.bids[0][0] * 0.9 / grid) * grid);
  assert.ok((await bithumb.fetchOpenOrders('BTC/KRW')).some((o) => o.id === hrest.id), 'the resting order is listed');
  await bithumb.cancelOrder(hrest.id);
  assert.equal((await bithumb.fetchOrder(hrest.id)).status, 'canceled');
  assert.ok(!(await bithumb.fetchOpenOrders('BTC/KRW')).some((o) => o.id === hrest.id));
  step('bithumb limit buy rests, is listed by fetchOpenOrders, cancelOrder cancels it');

  // Bithumb's 404 order_not_found is not in ccxt's bithumb error table: a plain ExchangeError.
  await assert.rejects(bithumb.fetchOrder('C0101000000000000000'), ccxt.ExchangeError);
  // 0.001 ETH (about 4,300 KRW) is under Bithumb's 5,000 KRW minimum: refused.
  const ebook = await bithumb.fetchOrderBook('ETH/KRW');
  await assert.rejects(bithumb.createOrder('ETH/KRW', 'limit', 'buy', 0.001,
    Math.ceil(ebook.asks[0][0] / 1000) * 1000), /최소주문금액/);
  step('bithumb unknown order -> ExchangeError, an order under the minimum -> refused');

  const h1 = (await bithumb.fetchBalance()).total;
  near(h1.BTC - h0.BTC, 0.001, 'bithumb BTC moved by the buy');
  near(h1.KRW - h0.KRW, -hfunds - hfee, 'bithumb KRW moved by the funds and the fee');
  step(`bithumb balances moved by exactly the fill: ${JSON.stringify(h1)}`);

  // Bithumb's private websocket (v2, ccxt.pro): a JWT with its timestamp claim on the upgrade;
  // ccxt sends myOrder and myAsset together (each request replaces the socket's list).
  const hws = new ccxt.pro.bithumb({ apiKey: bithumb.apiKey, secret: bithumb.secret });
  pointAt(hws, hport);
  hws.urls.api.ws.privateGen2 = `wss://127.0.0.1:${hport}/websocket/v2/private`;
  await hws.loadMarkets();
  const hwatchAssets = hws.watchBalance();
  await new Promise((r) => setTimeout(r, 200));
  const hwatchOrders = hws.watchOrders('BTC/KRW');
  await new Promise((r) => setTimeout(r, 300));
  const hwsBuy = await bithumb.createOrder('BTC/KRW', 'limit', 'buy', 0.001,
    Math.ceil(hbook.asks[0][0] * 1.002 / grid) * grid, { timeInForce: 'IOC' });
  let hpushed = await hwatchOrders;
  for (let k = 0; k < 10 && !hpushed.some((o) => o.id === hwsBuy.id && o.status === 'closed'); ++k) {
    hpushed = await hws.watchOrders('BTC/KRW');
  }
  const hdone = hpushed.find((o) => o.id === hwsBuy.id && o.status === 'closed');
  assert.ok(hdone, `bithumb watchOrders: the buy ends closed (${JSON.stringify(hpushed.map((o) => [o.id, o.status]))})`);
  // ccxt 4.5 reads v1's names (executed_volume); the v2 frame's own are in `info`.
  near(Number(hdone.info.executed_quantity), 0.001, 'bithumb myOrder executed_quantity');
  const hbal = await hwatchAssets;
  const h2 = (await bithumb.fetchBalance()).total;
  near(hbal.BTC.total, h2.BTC, 'bithumb watchBalance BTC is what fetchBalance reads');
  near(hbal.KRW.total, h2.KRW, 'bithumb watchBalance KRW is what fetchBalance reads');
  step(`bithumb watchOrders: ${hdone.status} ${hdone.info.executed_quantity}; watchBalance: BTC ${hbal.BTC.total}, KRW ${hbal.KRW.total}`);
  await hws.close();
}
console.log('ccxt against xarb-sim: every check passed');
