// probe.mjs MODEL PROMPT: load MODEL with real llama.cpp (through node-llama-cpp's prebuilt
// binaries), print its tokenization of PROMPT and the next-token probabilities after it.
// Output: "TOKENS id id ...", then "PROBS id:p id:p ..." (top 32).
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
const [,, modelPath, prompt] = process.argv;
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const toks = Array.from(model.tokenize(prompt, false));
console.log("TOKENS " + toks.join(" "));
const ctx = await model.createContext({contextSize: 512, threads: 2});
const seq = ctx.getSequence();
const input = toks.map((t, i) => i === toks.length - 1 ? [t, {generateNext: {probabilities: true}}] : t);
const res = await seq.controlledEvaluate(input);
const top = Array.from(res[res.length - 1].next.probabilities.entries()).sort((a, b) => b[1] - a[1]).slice(0, 32);
console.log("PROBS " + top.map(([i, p]) => `${i}:${p}`).join(" "));
if (process.argv[4] === "chat") {
    const {LlamaChatSession} = await import("node-llama-cpp");
    const c2 = await model.createContext({contextSize: 512});
    const s = new LlamaChatSession({contextSequence: c2.getSequence()});
    const a = await s.prompt("Hi, who are you?", {maxTokens: 4, temperature: 0});
    console.log("CHAT " + s.chatWrapper.wrapperName + " " + JSON.stringify(a).length);
}
process.exit(0);
