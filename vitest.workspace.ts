// Every Vitest project of the monorepo; vitest.config.ts imports this list (Vitest 4 no longer reads it alone).
export default ["packages/*/vitest.config.ts", "internal/*/vitest.config.ts"];
