import { mergeConfig } from 'vitest/config';
import shared, { longSuite } from '../../vitest.shared.js';

export default mergeConfig(shared, longSuite);
