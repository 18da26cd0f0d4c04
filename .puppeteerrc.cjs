// The browser is found at run time (CHROME_PATH, then the usual paths); never downloaded.
module.exports = { skipDownload: true };
