// GIPHY's own JavaScript client (@giphy/js-fetch-api), pointed at a gifdist server
// with its documented setServerUrl; prints what it parsed as JSON for the test.
// Usage: node giphy_fetch.mjs BASE_URL API_KEY QUERY
import { GiphyFetch, setServerUrl } from "@giphy/js-fetch-api";

const [base, apiKey, query] = process.argv.slice(2);
setServerUrl(`${base}/v1/`);
const gf = new GiphyFetch(apiKey);

const search = await gf.search(query, { sort: "relevant", limit: 2, offset: 0, rating: "g" });
const trending = await gf.trending({ limit: 10 });
const one = await gf.gif(search.data[0].id);
const many = await gf.gifs(trending.data.map((g) => g.id));
let refused = null;
try {
  await new GiphyFetch("not-a-gifdist-key").search(query, { limit: 1 });
} catch (error) {
  refused = { status: error.status, message: error.message };
}
console.log(JSON.stringify({
  search: {
    pagination: search.pagination,
    ids: search.data.map((g) => g.id),
    original: search.data[0].images.original,
    fixed_height: search.data[0].images.fixed_height,
    title: search.data[0].title,
  },
  trending: trending.data.map((g) => g.id),
  one: one.data.id,
  many: many.data.map((g) => g.id),
  refused,
}));
