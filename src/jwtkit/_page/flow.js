// The flow tab: a sign-in walked through step by step (see docs/page.md, "The flow").
export {};
