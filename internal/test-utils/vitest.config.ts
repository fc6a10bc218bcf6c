import { packageProject } from "../../vitest.base.js";

export default packageProject("@ipc-internal/test-utils", "./src/leak-check.ts");
