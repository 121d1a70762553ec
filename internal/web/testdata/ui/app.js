'use strict';
onReady(() => {});
